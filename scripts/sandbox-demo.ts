/**
 * The sandbox's demo objects: a namespace, an S3 StorageConnection with its credentials
 * Secret, a small Deployment on the PVC demo-data (created bound beforehand), and a
 * BackupPolicy for it.
 * @module
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ControlPlane } from "../test/env/control-plane.ts";
import type { S3Server } from "../test/env/s3.ts";
import { resticBackup, resticInit } from "../test/support/restic-cli.ts";
import { s3Restic, setRunStatus } from "../test/support/snapshot-env.ts";

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

export interface SeedInput {
  readonly cp: ControlPlane;
  readonly s3: S3Server;
  readonly bucket: string;
  /** The demo PVC's directory. */
  readonly dataDir: string;
}

/**
 * One backup of the demo PVC into the policy's repository, made with the restic CLI the way a
 * backup Job runs it (tags policy/run/pvc), and its BackupRun, so `kubectl get snapshots` has
 * something to show. Returns the snapshot's name.
 */
export async function seedBackup(input: SeedInput): Promise<string> {
  const { cp } = input;
  const policy = "pw-backup-demo-app";
  const repo = JSON.parse(await cp.kubectlOk(["get", "backuppolicy", policy, "-n", "demo", "-o", "jsonpath={.spec.repository}"])) as { path: string; passwordSecretName: string };
  const password = randomBytes(24).toString("base64url");
  await cp.kubectlOk(["create", "secret", "generic", repo.passwordSecretName, "-n", "demo", `--from-literal=RESTIC_PASSWORD=${password}`]);
  const restic = s3Restic(input.s3, { bucket: input.bucket, repoPath: repo.path, password });
  await resticInit({ ...restic, version: 2 });
  const run = `${policy}-seed`;
  const id = await resticBackup({ ...restic, dir: input.dataDir, host: "demo", tags: [`policy=${policy}`, `run=${run}`, "pvc=demo-data"] });
  await cp.kubectlOk(["apply", "-f", "-"], { input: JSON.stringify({ apiVersion: G, kind: "BackupRun", metadata: { name: run, namespace: "demo" }, spec: { policyRef: { name: policy } } }) });
  await setRunStatus(cp, { namespace: "demo", name: run }, { phase: "Succeeded", volumes: [{ pvc: "demo-data", phase: "Succeeded", snapshotId: id }] });
  return run;
}
