/**
 * The sandbox's demo objects: a namespace, an S3 StorageConnection with its credentials
 * Secret, a small Deployment on the PVC demo-data (created bound beforehand), and a
 * BackupPolicy for it.
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** A few files in the demo PVC, so there is something to back up. */
export function writeDemoData(dir: string): void {
  mkdirSync(join(dir, "uploads"), { recursive: true });
  writeFileSync(join(dir, "app.db"), "demo database\n".repeat(1000));
  for (let i = 0; i < 20; i++) writeFileSync(join(dir, "uploads", `photo-${i}.txt`), `photo ${i}\n`.repeat(100));
}

export interface DemoS3 {
  readonly endpoint: string;
  readonly bucket: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

const G = "backup.podwarden.io/v1alpha1";

export function demoObjects(s3: DemoS3): object[] {
  const labels = { app: "demo-app" };
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "podwarden-system" } },
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "sandbox-s3", namespace: "podwarden-system" },
      stringData: { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey },
    },
    {
      apiVersion: G,
      kind: "StorageConnection",
      metadata: { name: "sandbox-s3" },
      spec: { type: "s3", s3: { endpoint: s3.endpoint, bucket: s3.bucket, credentialsSecretRef: { namespace: "podwarden-system", name: "sandbox-s3" } } },
    },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "demo-app", namespace: "demo" },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            containers: [{ name: "app", image: "busybox", command: ["sh", "-c", "sleep infinity"], volumeMounts: [{ name: "data", mountPath: "/data" }] }],
            volumes: [{ name: "data", persistentVolumeClaim: { claimName: "demo-data" } }],
          },
        },
      },
    },
    {
      apiVersion: G,
      kind: "BackupPolicy",
      metadata: { name: "pw-backup-demo-app", namespace: "demo" },
      spec: { workloadRef: { kind: "Deployment", name: "demo-app" }, storageRef: { name: "sandbox-s3" }, schedule: "0 * * * *" },
    },
  ];
}
