/**
 * RestoreRun: puts a Snapshot back into the policy's volumes (or database).
 * @module
 */
import { z } from "zod";
import { Conditions, LocalObjectReference, objectSchema, Phase, Timestamp } from "./meta.ts";

export const RESTORE_REASONS = [
  "SnapshotNotFound",
  "SnapshotIncomplete",
  "IncompatibleVolumes",
  "WorkloadNotFound",
  "RestoreFailed",
  "WrongPassword",
] as const;
export type RestoreReason = (typeof RESTORE_REASONS)[number];

export const RestoreVolumeResult = z
  .object({
    pvc: z.string().describe("PVC restored (for postgres policies, the database)."),
    job: z.string().optional().describe("Job that restores this volume."),
    phase: Phase.describe("Pending, Running, Succeeded or Failed."),
    resticId: z.string().optional().describe("restic snapshot restored into this volume."),
    message: z.string().optional().describe("Details, e.g. why the volume failed."),
  })
  .describe("Result of restoring one volume.");

export const RestoreRunSpec = z
  .object({
    policyRef: LocalObjectReference.describe("The BackupPolicy (same namespace) whose snapshot is restored."),
    snapshot: z.string().describe("Name of the Snapshot to restore (kubectl get snapshots)."),
    volumes: z.array(z.string()).optional().describe("PVCs to restore; default every PVC in the snapshot."),
  })
  .describe("What to restore.");

export const RestoreRunStatus = z
  .object({
    phase: Phase.optional().describe("Pending, Running, Succeeded or Failed."),
    reason: z.string().optional().describe("CamelCase reason when Failed, e.g. SnapshotNotFound or IncompatibleVolumes."),
    message: z.string().optional().describe("Human-readable details."),
    startTime: Timestamp.optional().describe("When the restore started."),
    completionTime: Timestamp.optional().describe("When the restore ended."),
    volumes: z.array(RestoreVolumeResult).optional().describe("One entry per restored volume."),
    conditions: Conditions.optional(),
  })
  .describe("Observed state of the restore.");

export const RestoreRun = objectSchema(
  "RestoreRun restores a Snapshot into its policy's volumes, after checking that they are compatible.",
  RestoreRunSpec,
  RestoreRunStatus,
);
export type RestoreRun = z.infer<typeof RestoreRun>;
