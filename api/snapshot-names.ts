/**
 * The Snapshot kind's names and phases, without its schema: what the Snapshot API server needs
 * at run time (api/snapshot.ts has the zod schema, loaded only to build the OpenAPI documents).
 * @module
 */
import { CATEGORY, SNAPSHOT_GROUP, VERSION } from "./group.ts";

export const SNAPSHOT_KIND = "Snapshot" as const;
export const SNAPSHOT_LIST_KIND = "SnapshotList" as const;
export const SNAPSHOT_RESOURCE = "snapshots" as const;
export const SNAPSHOT_SINGULAR = "snapshot" as const;
export const SNAPSHOT_SHORT_NAMES = ["snap"] as const;
export const SNAPSHOT_CATEGORIES = [CATEGORY] as const;
/** The verbs the aggregated API serves (RBAC verbs; `delete` forgets the restic snapshots). */
export const SNAPSHOT_VERBS = ["delete", "get", "list", "watch"] as const;
export const SNAPSHOT_GVK = { group: SNAPSHOT_GROUP, version: VERSION, kind: SNAPSHOT_KIND } as const;

/**
 * Complete: every volume the run expected is present. InProgress: the run is still Pending or
 * Running. Partial: the run ended without a snapshot of every volume.
 */
export const SNAPSHOT_PHASES = ["Complete", "Partial", "InProgress"] as const;
export type SnapshotPhase = (typeof SNAPSHOT_PHASES)[number];
