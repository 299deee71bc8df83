/**
 * The narrow interfaces the aggregated API server consumes. Adapters (restic reader, BackupRun
 * informer, Kubernetes auth APIs) implement them; tests supply real-shaped answers.
 * @module
 */

/** The fields of a `restic snapshots --json` entry the server reads. */
export interface ResticSummaryLike {
  readonly total_files_processed?: number;
  readonly total_bytes_processed?: number;
  readonly data_added?: number;
}

export interface ResticSnapshotLike {
  readonly id: string;
  readonly time: string;
  readonly hostname?: string;
  readonly paths?: readonly string[] | null;
  readonly tags?: readonly string[] | null;
  readonly summary?: ResticSummaryLike;
}

/** A BackupPolicy, by namespace and name. Its key is `namespace/name`. */
export interface PolicyRef {
  readonly namespace: string;
  readonly name: string;
}

export function policyKey(policy: PolicyRef): string {
  return `${policy.namespace}/${policy.name}`;
}

/** Parses `namespace/name`; undefined when either part is missing. */
export function parsePolicyKey(key: string): PolicyRef | undefined {
  const slash = key.indexOf("/");
  if (slash <= 0 || slash === key.length - 1 || key.indexOf("/", slash + 1) !== -1) return undefined;
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** A snapshot file the reader could not decode; the others are still listed. */
export interface SnapshotReadError {
  readonly id: string;
  readonly code: string;
  readonly message: string;
}

/**
 * Why a policy's repository could not be listed. `PolicyNotFound` means the policy is gone (its
 * rows are dropped); anything else keeps the last good rows and warns.
 */
export interface SourceFailure {
  readonly reason: string;
  readonly message: string;
}

export type SourceResult =
  | {
      readonly ok: true;
      /** The restic repository ID (from its config file). */
      readonly repositoryId: string;
      readonly snapshots: readonly ResticSnapshotLike[];
      readonly errors: readonly SnapshotReadError[];
    }
  | { readonly ok: false; readonly error: SourceFailure };

/** Some of a listing's snapshots, told while the listing goes on. */
export interface SourceBatch {
  readonly repositoryId: string;
  readonly snapshots: readonly ResticSnapshotLike[];
}

/** The restic repositories of every BackupPolicy. */
export interface SnapshotSources {
  /** Every BackupPolicy that has a repository. Rejects when the policies cannot be listed. */
  policies(): Promise<readonly PolicyRef[]>;
  /**
   * Lists one policy's repository. Should not reject; a rejection counts as a failure. A source
   * may tell `onBatch` the snapshots as it reads them (each listed snapshot once, before it
   * resolves), so that a long first listing can be shown as it goes; it need not.
   */
  list(policy: PolicyRef, onBatch?: (batch: SourceBatch) => void): Promise<SourceResult>;
  /** Forgets one restic snapshot (no prune). Resolves when it is gone or was already gone. */
  forget(policy: PolicyRef, resticId: string): Promise<void>;
}

export const RUN_PHASES = ["Pending", "Running", "Succeeded", "Failed"] as const;
export type RunPhase = (typeof RUN_PHASES)[number];

/** The parts of a BackupRun's status the grouping reads. */
export interface RunVolumeInfo {
  readonly pvc: string;
  readonly snapshotId?: string;
  readonly filesNew?: number;
  readonly filesChanged?: number;
  readonly filesUnmodified?: number;
  readonly bytesAdded?: number;
  readonly bytesTotal?: number;
}

export interface RunInfo {
  /** Unset while the run has no status yet (counts as Pending). */
  readonly phase?: RunPhase;
  /** One entry per PVC the run expects. */
  readonly volumes: readonly RunVolumeInfo[];
}

/** The BackupRuns of a policy, by run name. Rejects when they cannot be read. */
export interface RunStatusLookup {
  runs(policy: PolicyRef): Promise<ReadonlyMap<string, RunInfo>>;
}

/** Wall clock in milliseconds since the epoch. */
export interface Clock {
  now(): number;
}

/** Schedules `fn` every `ms`; returns the cancel function. */
export type Every = (ms: number, fn: () => void) => () => void;

/** Runs `fn` once after `ms`; returns the cancel function. */
export type After = (ms: number, fn: () => void) => () => void;

export const realClock: Clock = { now: () => Date.now() };

export const realEvery: Every = (ms, fn) => {
  const t = setInterval(fn, ms);
  t.unref();
  return () => clearInterval(t);
};

export const realAfter: After = (ms, fn) => {
  const t = setTimeout(fn, ms);
  return () => clearTimeout(t);
};
