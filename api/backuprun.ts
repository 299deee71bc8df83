/**
 * BackupRun: one execution of a BackupPolicy, one restic snapshot per PVC.
 * @module
 */
import { z } from "zod";
import { Conditions, LocalObjectReference, objectSchema, Phase, Timestamp } from "./meta.ts";

export const TRIGGERS = ["Scheduled", "Manual"] as const;
export type Trigger = (typeof TRIGGERS)[number];

export const VolumeResult = z
  .object({
    pvc: z.string().describe("PVC name (for postgres policies, the database name)."),
    job: z.string().optional().describe("Job that backs up this volume."),
    phase: Phase.describe("Pending, Running, Succeeded or Failed."),
    snapshotId: z.string().optional().describe("restic snapshot ID."),
    filesNew: z.number().int().optional().describe("Files added since the parent snapshot."),
    filesChanged: z.number().int().optional().describe("Files changed since the parent snapshot."),
    filesUnmodified: z.number().int().optional().describe("Files unchanged since the parent snapshot."),
    bytesAdded: z.number().int().optional().describe("Bytes added to the repository (before compression)."),
    bytesTotal: z.number().int().optional().describe("Bytes processed: the size of the volume's data."),
    startTime: Timestamp.optional().describe("When the volume's backup started."),
    completionTime: Timestamp.optional().describe("When the volume's backup ended."),
    message: z.string().optional().describe("Details, e.g. why the volume failed."),
  })
  .describe("Result of backing up one volume.");
export type VolumeResult = z.infer<typeof VolumeResult>;

export const BackupRunSpec = z
  .object({
    policyRef: LocalObjectReference.describe("The BackupPolicy (same namespace) to run."),
    trigger: z.enum(TRIGGERS).optional().describe("Scheduled (created by the operator) or Manual (Run now). Default Manual."),
    scheduledTime: Timestamp.optional().describe("For scheduled runs, the cron time this run is for."),
  })
  .describe("Which policy to run.");

export const BackupRunStatus = z
  .object({
    phase: Phase.optional().describe("Pending, Running, Succeeded or Failed."),
    reason: z.string().optional().describe("CamelCase reason when Failed, e.g. HookFailed, WrongPassword."),
    message: z.string().optional().describe("Human-readable details."),
    snapshot: z.string().optional().describe("Name of the Snapshot (kubectl get snapshots) this run produced."),
    startTime: Timestamp.optional().describe("When the run started."),
    completionTime: Timestamp.optional().describe("When the run ended."),
    duration: z.string().optional().describe("Wall time of the run, e.g. 1m12s."),
    bytesTotal: z.number().int().optional().describe("Bytes processed over all volumes."),
    bytesAdded: z.number().int().optional().describe("Bytes added to the repository over all volumes."),
    size: z.string().optional().describe("bytesTotal in human units, e.g. 1.2Gi."),
    volumes: z.array(VolumeResult).optional().describe("One entry per backed-up volume."),
    conditions: Conditions.optional(),
  })
  .describe("Observed state of the run.");

export const BackupRun = objectSchema(
  "BackupRun is one execution of a BackupPolicy: one restic snapshot per volume, grouped into one Snapshot.",
  BackupRunSpec,
  BackupRunStatus,
);
export type BackupRun = z.infer<typeof BackupRun>;
