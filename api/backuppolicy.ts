/**
 * BackupPolicy: what to back up (a workload's volumes or a PostgreSQL database), when, where
 * and for how long.
 * @module
 */
import { z } from "zod";
import { Conditions, LocalObjectReference, objectSchema, Timestamp } from "./meta.ts";

export const POLICY_TYPES = ["volume", "postgres"] as const;
export type PolicyType = (typeof POLICY_TYPES)[number];
export const MODES = ["hot", "cold"] as const;
export type Mode = (typeof MODES)[number];
export const WORKLOAD_KINDS = ["Deployment", "StatefulSet"] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];
export const RETENTION_KEYS = ["keepLast", "keepHourly", "keepDaily", "keepWeekly", "keepMonthly", "keepYearly"] as const;
export type RetentionKey = (typeof RETENTION_KEYS)[number];

export const Retention = z
  .object({
    keepLast: z.number().int().optional().describe("Always keep the N most recent snapshots (restic --keep-last). Default 7."),
    keepHourly: z.number().int().optional().describe("Keep the last snapshot of each of the last N hours (restic --keep-hourly)."),
    keepDaily: z.number().int().optional().describe("Keep the last snapshot of each of the last N days (restic --keep-daily). Default 7."),
    keepWeekly: z.number().int().optional().describe("Keep the last snapshot of each of the last N weeks (restic --keep-weekly). Default 4."),
    keepMonthly: z.number().int().optional().describe("Keep the last snapshot of each of the last N months (restic --keep-monthly)."),
    keepYearly: z.number().int().optional().describe("Keep the last snapshot of each of the last N years (restic --keep-yearly)."),
  })
  .describe("Which snapshots to keep after each backup. A snapshot is kept if any rule keeps it; at least one rule must be greater than 0.");

export const WorkloadRef = z
  .object({
    kind: z.enum(WORKLOAD_KINDS).describe("Deployment or StatefulSet."),
    name: z.string().describe("Name of the workload in the policy's namespace."),
  })
  .describe("The workload whose volumes are backed up. Required for type volume.");

export const PreBackupHook = z
  .object({
    command: z.string().describe("Shell command run with sh -c inside a running pod of the workload before files are copied; a non-zero exit aborts the backup."),
    container: z.string().optional().describe("Container to run the command in; default the pod's first container."),
    timeoutSeconds: z.number().int().optional().describe("Seconds the command may run before the backup is aborted. Default 300."),
  })
  .describe("Command run in the workload before a hot backup, e.g. a database dump. Hot mode only.");

export const PostgresSource = z
  .object({
    host: z.string().describe("Database host name or IP address."),
    port: z.number().int().optional().describe("Database port. Default 5432."),
    database: z.string().describe("Database to dump with pg_dump --format=custom."),
    user: z.string().describe("PostgreSQL user."),
    passwordSecretRef: z
      .object({
        name: z.string().describe("Name of a Secret in the policy's namespace."),
        key: z.string().describe("Key in the Secret that holds the password."),
      })
      .describe("Secret key holding the user's password."),
  })
  .describe("The PostgreSQL database to back up. Required for type postgres.");

export const Repository = z
  .object({
    path: z.string().describe("Path of the restic repository inside the storage, backups/{cluster}/{workload}-{suffix}. Set at creation; immutable."),
    passwordSecretName: z.string().describe("Secret (key RESTIC_PASSWORD) with the repository password, pw-backup-{suffix}. Set at creation; immutable."),
  })
  .describe("The policy's own restic repository. Set by the operator at creation with a random suffix; set it yourself to adopt an existing repository. Immutable.");

export const BackupPolicySpec = z
  .object({
    type: z.enum(POLICY_TYPES).optional().describe("What is backed up: volume (the workload's PVCs) or postgres (a pg_dump). Default volume; immutable."),
    workloadRef: WorkloadRef.optional(),
    volumes: z.array(z.string()).optional().describe("PVC names to back up; default every PVC the workload mounts, discovered at run time."),
    mode: z.enum(MODES).optional().describe("hot backs up while the workload runs; cold scales it to 0 for the backup and back afterwards. Default hot."),
    preBackupHook: PreBackupHook.optional(),
    postgres: PostgresSource.optional(),
    schedule: z.string().optional().describe("Cron schedule: five fields (minute hour day-of-month month day-of-week) or @hourly/@daily/@weekly/@monthly/@yearly. Default \"0 2 * * *\"."),
    timeZone: z.string().optional().describe("IANA time zone the schedule is read in, e.g. Europe/Berlin. Default UTC."),
    suspend: z.boolean().optional().describe("True stops scheduling new runs; running ones finish."),
    storageRef: LocalObjectReference.describe("The StorageConnection the repository lives in. Immutable."),
    retention: Retention.optional(),
    repository: Repository.optional(),
  })
  .describe("What to back up, when, where, and how long to keep it.");

export const BackupPolicyStatus = z
  .object({
    conditions: Conditions.optional(),
    observedGeneration: z.number().int().optional().describe("The .metadata.generation the status reflects."),
    lastScheduleTime: Timestamp.optional().describe("Scheduled time of the most recent run."),
    lastSuccessfulTime: Timestamp.optional().describe("Completion time of the most recent successful run."),
    nextScheduleTime: Timestamp.optional().describe("When the next run is scheduled."),
    lastRun: z.string().optional().describe("Name of the most recent BackupRun."),
    snapshotCount: z.number().int().optional().describe("Snapshots in the repository at the last check."),
  })
  .describe("Observed state of the policy.");

export const BackupPolicy = objectSchema(
  "BackupPolicy backs up a workload's volumes or a PostgreSQL database with restic on a schedule, with retention.",
  BackupPolicySpec,
  BackupPolicyStatus,
);
export type BackupPolicy = z.infer<typeof BackupPolicy>;
export type BackupPolicySpec = z.infer<typeof BackupPolicySpec>;
