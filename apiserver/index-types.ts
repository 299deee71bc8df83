/**
 * The Snapshot index's interface and what it needs (index.ts implements it).
 * @module
 */
import type { Snapshot } from "../api/snapshot.ts";
import type { Logger } from "../kube/log.ts";
import type { IndexEvent } from "./events.ts";
import type { StoredSnapshot } from "./policy-store.ts";
import type { Clock, Every, PolicyRef, RunStatusLookup, SnapshotReadError, SnapshotSources, SourceFailure } from "./types.ts";

export interface IndexDeps {
  readonly sources: SnapshotSources;
  readonly runs: RunStatusLookup;
  readonly clock: Clock;
  readonly log: Logger;
  /** Timer for the periodic refresh; without it, only start()'s first refresh and refresh() run. */
  readonly every?: Every;
  readonly refreshIntervalMs?: number;
  readonly eventCapacity?: number;
  /** Repository listings at once, over all refreshes (default 4). */
  readonly concurrency?: number;
  /** Told after every listing of a policy's repository (not when the policy is gone). */
  readonly onListed?: (e: ListedEvent) => void;
  /** Told the objects a first listing stores while it goes on, e.g. to render them ahead of the first list request. */
  readonly onStored?: (objects: readonly Snapshot[]) => void;
}

/** The outcome of one listing: `problem` set when the repository could not be listed. */
export interface ListedEvent {
  readonly policy: PolicyRef;
  readonly problem?: SourceFailure;
  /** Snapshot files that could not be read (the others were listed). */
  readonly unreadable: readonly SnapshotReadError[];
}

/** A degraded policy (or, with policy undefined, the policy catalogue itself). */
export interface PolicyProblem {
  readonly policy?: PolicyRef;
  readonly reason: string;
  readonly message: string;
}

export interface DeleteRequest {
  readonly dryRun: boolean;
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string };
}

export type DeleteOutcome =
  | { readonly outcome: "Deleted"; readonly object: Snapshot }
  | { readonly outcome: "NotFound" }
  | { readonly outcome: "Conflict"; readonly message: string };

export interface SnapshotIndex {
  /** Re-reads one policy's repository (`namespace/name`); concurrent calls coalesce. */
  refresh(key: string): Promise<void>;
  /** Re-lists the policies, drops the gone ones and refreshes every repository. */
  refreshAll(): Promise<void>;
  /** First refreshAll now, then every refreshIntervalMs. */
  start(): void;
  stop(): void;
  /** True once the first refreshAll finished (successfully or not). */
  ready(): boolean;
  resourceVersion(): number;
  /** Sorted by namespace, then name. */
  list(namespace?: string): readonly StoredSnapshot[];
  get(namespace: string, name: string): StoredSnapshot | undefined;
  problems(namespace?: string): readonly PolicyProblem[];
  /** Events after `rv`; "expired" when the buffer no longer reaches back that far. */
  eventsSince(rv: number): readonly IndexEvent[] | "expired";
  oldestResourceVersion(): number;
  /** Listens to every change; returns the unsubscribe function. */
  subscribe(listener: (e: IndexEvent) => void): () => void;
  /** Forgets the restic snapshots of one logical Snapshot, then emits DELETED. */
  delete(namespace: string, name: string, req: DeleteRequest): Promise<DeleteOutcome>;
}
