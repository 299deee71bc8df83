/**
 * The four CRD kinds: names, scope, printer columns and schema, in one table.
 * @module
 */
import type { z } from "zod";
import { BackupPolicy } from "./backuppolicy.ts";
import { BackupRun } from "./backuprun.ts";
import type { Kind } from "./group.ts";
import { RestoreRun } from "./restorerun.ts";
import { StorageConnection } from "./storageconnection.ts";

export interface PrinterColumn {
  readonly name: string;
  readonly type: "string" | "integer" | "number" | "boolean" | "date";
  readonly jsonPath: string;
  readonly description: string;
  readonly priority?: number;
  readonly format?: string;
}

export interface KindInfo {
  readonly kind: Kind;
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  readonly scope: "Namespaced" | "Cluster";
  readonly schema: z.ZodType;
  readonly columns: readonly PrinterColumn[];
}

const ready = (what: string): PrinterColumn => ({
  name: "Ready",
  type: "string",
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
  description: `Whether the ${what} is ready.`,
});
const age: PrinterColumn = { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp", description: "Time since creation." };

export const KIND_INFO: Readonly<Record<Kind, KindInfo>> = {
  StorageConnection: {
    kind: "StorageConnection",
    plural: "storageconnections",
    singular: "storageconnection",
    shortNames: ["pwsc", "storageconn"],
    scope: "Cluster",
    schema: StorageConnection,
    columns: [
      { name: "Type", type: "string", jsonPath: ".spec.type", description: "nfs or s3." },
      { name: "Target", type: "string", jsonPath: ".status.target", description: "Where the repositories are stored." },
      ready("storage"),
      age,
    ],
  },
  BackupPolicy: {
    kind: "BackupPolicy",
    plural: "backuppolicies",
    singular: "backuppolicy",
    shortNames: ["bp", "pwbp"],
    scope: "Namespaced",
    schema: BackupPolicy,
    columns: [
      { name: "Type", type: "string", jsonPath: ".spec.type", description: "volume or postgres." },
      { name: "Mode", type: "string", jsonPath: ".spec.mode", description: "hot or cold." },
      { name: "Schedule", type: "string", jsonPath: ".spec.schedule", description: "Cron schedule." },
      { name: "Storage", type: "string", jsonPath: ".spec.storageRef.name", description: "StorageConnection." },
      { name: "Last Success", type: "date", jsonPath: ".status.lastSuccessfulTime", description: "Last successful run." },
      { name: "Next", type: "date", jsonPath: ".status.nextScheduleTime", description: "Next scheduled run." },
      ready("policy"),
      age,
      { name: "Workload", type: "string", jsonPath: ".spec.workloadRef.name", description: "Workload backed up.", priority: 1 },
      { name: "Last Run", type: "string", jsonPath: ".status.lastRun", description: "Most recent BackupRun.", priority: 1 },
      { name: "Snapshots", type: "integer", jsonPath: ".status.snapshotCount", description: "Snapshots kept.", priority: 1 },
    ],
  },
  BackupRun: {
    kind: "BackupRun",
    plural: "backupruns",
    singular: "backuprun",
    shortNames: ["br", "pwbr"],
    scope: "Namespaced",
    schema: BackupRun,
    columns: [
      { name: "Policy", type: "string", jsonPath: ".spec.policyRef.name", description: "BackupPolicy run." },
      { name: "Phase", type: "string", jsonPath: ".status.phase", description: "Pending, Running, Succeeded or Failed." },
      { name: "Snapshot", type: "string", jsonPath: ".status.snapshot", description: "Snapshot produced." },
      { name: "Size", type: "string", jsonPath: ".status.size", description: "Data backed up." },
      { name: "Duration", type: "string", jsonPath: ".status.duration", description: "Wall time." },
      age,
      { name: "Reason", type: "string", jsonPath: ".status.reason", description: "Why the run failed.", priority: 1 },
    ],
  },
  RestoreRun: {
    kind: "RestoreRun",
    plural: "restoreruns",
    singular: "restorerun",
    shortNames: ["rr", "pwrr"],
    scope: "Namespaced",
    schema: RestoreRun,
    columns: [
      { name: "Policy", type: "string", jsonPath: ".spec.policyRef.name", description: "BackupPolicy restored." },
      { name: "Snapshot", type: "string", jsonPath: ".spec.snapshot", description: "Snapshot restored." },
      { name: "Phase", type: "string", jsonPath: ".status.phase", description: "Pending, Running, Succeeded or Failed." },
      { name: "Reason", type: "string", jsonPath: ".status.reason", description: "Why the restore failed." },
      age,
    ],
  },
};
