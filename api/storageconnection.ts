/**
 * StorageConnection: a cluster-scoped backup target (NFS export or S3 bucket) that many
 * BackupPolicies share.
 * @module
 */
import { z } from "zod";
import { Conditions, objectSchema, Timestamp } from "./meta.ts";

export const STORAGE_TYPES = ["nfs", "s3"] as const;
export type StorageType = (typeof STORAGE_TYPES)[number];

export const NfsTarget = z
  .object({
    server: z.string().describe("NFS server host name or IP address."),
    path: z.string().describe("Exported path on the server, e.g. /exports/backups."),
  })
  .describe("NFS export that holds the repositories. Required when type is nfs.");

export const S3Target = z
  .object({
    endpoint: z.string().describe("S3 endpoint URL with its scheme, e.g. https://s3.eu-west-1.amazonaws.com or http://minio.storage:9000."),
    bucket: z.string().describe("Bucket name (3-63 characters: lowercase letters, digits, dots and hyphens)."),
    region: z.string().optional().describe("Bucket region; omitted means the endpoint's default (us-east-1)."),
    prefix: z.string().optional().describe("Key prefix under which every repository of this connection is created."),
    credentialsSecretRef: z
      .object({
        namespace: z.string().describe("Namespace of the Secret."),
        name: z.string().describe("Name of the Secret."),
      })
      .describe("Secret with the keys AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."),
  })
  .describe("S3-compatible bucket that holds the repositories. Required when type is s3.");

export const StorageConnectionSpec = z
  .object({
    type: z.enum(STORAGE_TYPES).describe("Kind of storage: nfs or s3."),
    nfs: NfsTarget.optional(),
    s3: S3Target.optional(),
  })
  .describe("Where backups are stored.");

export const StorageConnectionStatus = z
  .object({
    conditions: Conditions.optional(),
    target: z.string().optional().describe("The storage location in short form, e.g. s3:https://host/bucket/prefix or nfs:server:/path."),
    lastProbeTime: Timestamp.optional().describe("When the controller last checked that the storage is reachable."),
  })
  .describe("Observed state of the connection.");

export const StorageConnection = objectSchema(
  "StorageConnection is a backup target (NFS or S3) that BackupPolicies store their restic repositories in.",
  StorageConnectionSpec,
  StorageConnectionStatus,
);
export type StorageConnection = z.infer<typeof StorageConnection>;
export type StorageConnectionSpec = z.infer<typeof StorageConnectionSpec>;
