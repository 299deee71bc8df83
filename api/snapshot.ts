/**
 * Snapshot: the virtual kind served by the aggregated API `snapshots.backup.podwarden.io`. One
 * object is one *logical* snapshot: the per-PVC restic snapshots of one BackupRun, read live
 * from the policy's restic repository. Nothing is stored in etcd.
 * @module
 */
import { z } from "zod";
import { SNAPSHOT_API_VERSION } from "./group.ts";
import { API_VERSION_DOC, KIND_DOC, ObjectMeta, Timestamp } from "./meta.ts";

import { SNAPSHOT_KIND, SNAPSHOT_LIST_KIND, SNAPSHOT_PHASES } from "./snapshot-names.ts";

export { SNAPSHOT_CATEGORIES, SNAPSHOT_GVK, SNAPSHOT_KIND, SNAPSHOT_LIST_KIND, SNAPSHOT_PHASES, SNAPSHOT_RESOURCE, SNAPSHOT_SHORT_NAMES, SNAPSHOT_SINGULAR, SNAPSHOT_VERBS } from "./snapshot-names.ts";
export type { SnapshotPhase } from "./snapshot-names.ts";

const Count = z.number().int().min(0);

export const SnapshotVolume = z
  .object({
    pvc: z.string().optional().describe("PVC the restic snapshot was taken of (its pvc= tag); absent when the snapshot has no pvc tag."),
    resticId: z.string().describe("Full 64-hex restic snapshot ID."),
    time: Timestamp.describe("When restic started this volume's snapshot."),
    sizeBytes: Count.optional().describe("Bytes of the volume's data (restic summary total_bytes_processed, else the run's bytesTotal)."),
    files: Count.optional().describe("Files in the volume (restic summary total_files_processed, else the run's new+changed+unmodified)."),
    addedBytes: Count.optional().describe("Bytes this snapshot added to the repository before compression (restic summary data_added)."),
  })
  .describe("One restic snapshot of one volume.");
export type SnapshotVolume = z.infer<typeof SnapshotVolume>;

export const SnapshotTotals = z
  .object({
    volumes: Count.describe("Number of restic snapshots (volumes) in this Snapshot."),
    sizeBytes: Count.describe("Sum of the volumes' sizeBytes (volumes of unknown size count as 0)."),
    files: Count.describe("Sum of the volumes' file counts (volumes of unknown count count as 0)."),
    addedBytes: Count.describe("Sum of the bytes the volumes added to the repository."),
  })
  .describe("Totals over all volumes.");
export type SnapshotTotals = z.infer<typeof SnapshotTotals>;

export const SnapshotSpec = z
  .object({
    policy: z.string().describe("Name of the BackupPolicy (same namespace) whose repository holds this snapshot."),
    run: z.string().optional().describe("Name of the BackupRun that made it (restic tag run=); absent for snapshots made outside a run."),
  })
  .describe("What this snapshot is of. Read-only: Snapshots are read from the restic repository.");
export type SnapshotSpec = z.infer<typeof SnapshotSpec>;

export const SnapshotStatus = z
  .object({
    phase: z.enum(SNAPSHOT_PHASES).describe("Complete when every volume the run expected is present, InProgress while the run is Pending or Running, Partial otherwise."),
    time: Timestamp.describe("When the first volume's restic snapshot started."),
    volumes: z.array(SnapshotVolume).describe("The restic snapshots of this logical snapshot, one per volume, sorted by PVC."),
    missingVolumes: z.array(z.string()).optional().describe("PVCs the run expected but that have no restic snapshot (set when Partial or InProgress)."),
    totals: SnapshotTotals,
    hostname: z.string().optional().describe("Hostname restic recorded (that of the first volume)."),
    paths: z.array(z.string()).describe("Paths backed up, over all volumes, sorted."),
    tags: z.array(z.string()).describe("restic tags, over all volumes, sorted."),
  })
  .describe("What the restic repository holds for this snapshot.");
export type SnapshotStatus = z.infer<typeof SnapshotStatus>;

export const Snapshot = z
  .object({
    apiVersion: z.literal(SNAPSHOT_API_VERSION).describe(API_VERSION_DOC),
    kind: z.literal(SNAPSHOT_KIND).describe(KIND_DOC),
    metadata: ObjectMeta,
    spec: SnapshotSpec,
    status: SnapshotStatus,
  })
  .describe("Snapshot is one logical backup of a BackupPolicy: the restic snapshots of its volumes taken by one BackupRun. kubectl delete forgets them in restic.");
export type Snapshot = z.infer<typeof Snapshot>;

export const SnapshotList = z
  .object({
    apiVersion: z.literal(SNAPSHOT_API_VERSION).describe(API_VERSION_DOC),
    kind: z.literal(SNAPSHOT_LIST_KIND).describe(KIND_DOC),
    metadata: z.looseObject({}).describe("Standard list metadata."),
    items: z.array(Snapshot).describe("The Snapshots."),
  })
  .describe("SnapshotList is a list of Snapshots.");
export type SnapshotList = z.infer<typeof SnapshotList>;
