/**
 * A policy's first listing, shown while it is read: a cold repository of thousands of snapshots
 * takes a while to read, and grouping and storing them afterwards would add to it on one core.
 * Instead each batch the source reads is grouped (incrementally) and the groups that are
 * Complete are stored at once, while the next batches are still being decoded. Groups that are
 * not Complete yet (a run whose other volumes are in later batches) wait for the end of the
 * listing, so a watcher never sees a transient Partial. Batches that arrive before the policy's
 * BackupRuns are known wait for them.
 * @module
 */
import type { Grouper, LogicalSnapshot } from "./grouping.ts";
import { createGrouper } from "./grouping.ts";
import type { PolicyRef, RunInfo, SourceBatch } from "./types.ts";

export interface FirstListingDeps {
  readonly policy: PolicyRef;
  /** restic IDs deleted through the API that the listing may still show. */
  readonly forgotten: ReadonlySet<string>;
  /** Stores Complete groups now (the policy's other rows stay). */
  readonly store: (groups: readonly LogicalSnapshot[]) => void;
}

export interface FirstListing {
  /** For the source's `onBatch`. */
  readonly onBatch: (batch: SourceBatch) => void;
  /** The policy's BackupRuns: batches held until now are grouped. */
  setRuns(runs: ReadonlyMap<string, RunInfo>): void;
  /**
   * The groups of the whole listing, when the batches held exactly the listing's `count`
   * snapshots of this repository with these runs: all of them (sorted by name) and those not
   * stored yet (`rest`); undefined otherwise (the caller groups the result itself).
   */
  groups(result: { readonly repositoryId: string; readonly count: number }, runs: ReadonlyMap<string, RunInfo>): { all: LogicalSnapshot[]; rest: LogicalSnapshot[] } | undefined;
}

export function startFirstListing(deps: FirstListingDeps): FirstListing {
  const held: SourceBatch[] = [];
  let runs: ReadonlyMap<string, RunInfo> | undefined;
  let grouper: { readonly repositoryId: string; readonly g: Grouper } | undefined;
  let seen = 0;
  let consistent = true;
  /** What was stored early, by name. */
  const stored = new Map<string, LogicalSnapshot>();

  const group = (batch: SourceBatch, known: ReadonlyMap<string, RunInfo>): void => {
    const snapshots = deps.forgotten.size === 0 ? batch.snapshots : batch.snapshots.filter((s) => !deps.forgotten.has(s.id));
    grouper ??= { repositoryId: batch.repositoryId, g: createGrouper({ policy: deps.policy, repositoryId: batch.repositoryId, runs: known }) };
    if (grouper.repositoryId !== batch.repositoryId) consistent = false;
    if (!consistent) return;
    seen += batch.snapshots.length;
    const complete = grouper.g.add(snapshots).filter((l) => l.object.status.phase === "Complete");
    if (complete.length === 0) return;
    for (const l of complete) stored.set(l.object.metadata.name ?? "", l);
    deps.store(complete);
  };

  return {
    onBatch(batch) {
      if (runs === undefined) held.push(batch);
      else group(batch, runs);
    },
    setRuns(known) {
      if (runs !== undefined) return;
      runs = known;
      for (const batch of held.splice(0)) group(batch, known);
    },
    groups(result, known) {
      const usable = consistent && runs === known && grouper?.repositoryId === result.repositoryId && seen === result.count && held.length === 0;
      const all = usable ? grouper?.g.all() : undefined;
      return all === undefined ? undefined : { all, rest: all.filter((l) => stored.get(l.object.metadata.name ?? "") !== l) };
    },
  };
}
