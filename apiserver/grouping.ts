/**
 * Grouping one policy's restic snapshots into logical Snapshots: the per-PVC snapshots of one
 * BackupRun (restic tag `run=`) become one Snapshot named after the run; a snapshot with no run
 * tag becomes `<policy>-<first 8 hex of its id>`. Incremental: snapshots can be added batch by
 * batch as a listing reads them, and each call says which groups it changed, so that the index
 * can show them while the rest is still being read. A group whose inputs (restic IDs, the run's
 * status, the repository) are those of an earlier listing is reused as it was.
 * @module
 */
import type { Snapshot } from "../api/snapshot.ts";
import { productTags } from "../restic/tags.ts";
import type { GroupContext, Member } from "./snapshot-object.ts";
import { isLabelValue, isObjectName, snapshotObject, timeMs } from "./snapshot-object.ts";
import type { PolicyRef, ResticSnapshotLike, RunInfo } from "./types.ts";

export interface GroupInput {
  readonly policy: PolicyRef;
  /** The repository's ID; part of every UID so that two repositories never share one. */
  readonly repositoryId: string;
  readonly snapshots: readonly ResticSnapshotLike[];
  /** The policy's BackupRuns by name; a run that is gone is simply absent. */
  readonly runs: ReadonlyMap<string, RunInfo>;
  /**
   * What an earlier listing of the same policy returned, by name: a group whose `sig` is
   * unchanged is returned as that earlier entry (same object), without building it again.
   */
  readonly previous?: ReadonlyMap<string, LogicalSnapshot>;
}

/** A Snapshot object (resourceVersion still empty) and the restic snapshots it is made of. */
export interface LogicalSnapshot {
  readonly object: Snapshot;
  readonly resticIds: readonly string[];
  /** What the object was built from (repository, restic IDs, run status): equal means the same object. */
  readonly sig: string;
}

interface Group {
  readonly name: string;
  readonly run: string | undefined;
  readonly members: Member[];
  built?: LogicalSnapshot;
}

export interface Grouper {
  /** Adds restic snapshots of the listing; returns the groups this changed (new or rebuilt), in no order. */
  add(snapshots: readonly ResticSnapshotLike[]): LogicalSnapshot[];
  /** Every group so far, sorted by name. */
  all(): LogicalSnapshot[];
}

function byPvcTimeId(a: Member, b: Member): number {
  const pa = a.pvc ?? "";
  const pb = b.pvc ?? "";
  if (pa !== pb) return pa < pb ? -1 : 1;
  const dt = timeMs(a.snap.time) - timeMs(b.snap.time);
  if (dt !== 0) return dt;
  return a.snap.id < b.snap.id ? -1 : a.snap.id > b.snap.id ? 1 : 0;
}

/** The inputs one group's object is built from; the policy is the same for every listing with `previous`. */
function signature(g: Group, input: Omit<GroupInput, "snapshots">): string {
  const run = g.run === undefined ? undefined : input.runs.get(g.run);
  const ids = g.members.length === 1 ? (g.members[0] as Member).snap.id : g.members.map((m) => m.snap.id).sort().join(",");
  return `${input.repositoryId}\n${g.run === undefined ? "" : run === undefined ? "-" : JSON.stringify(run)}\n${ids}`;
}

function build(g: Group, ctx: GroupContext, input: Omit<GroupInput, "snapshots">): LogicalSnapshot {
  const sig = signature(g, input);
  const before = g.built ?? input.previous?.get(g.name);
  if (before !== undefined && before.sig === sig) return before;
  const members = g.members.length === 1 ? g.members : [...g.members].sort(byPvcTimeId);
  const object = snapshotObject(ctx, { name: g.name, run: g.run, members }, g.run === undefined ? undefined : input.runs.get(g.run));
  return { object, resticIds: members.map((m) => m.snap.id), sig };
}

/**
 * A grouper for one listing of one policy's repository. Snapshots tagged for another policy (a
 * shared repository) are skipped; a run tag that is not a valid object name counts as none.
 */
export function createGrouper(input: Omit<GroupInput, "snapshots">): Grouper {
  const ctx: GroupContext = { policy: input.policy, repositoryId: input.repositoryId, policyLabel: isLabelValue(input.policy.name) };
  const groups = new Map<string, Group>();
  return {
    add(snapshots) {
      const touched = new Set<Group>();
      for (const snap of snapshots) {
        const tags = productTags(snap.tags);
        if (tags.policy !== undefined && tags.policy !== input.policy.name) continue;
        const run = tags.run !== undefined && isObjectName(tags.run) ? tags.run : undefined;
        const name = run ?? `${input.policy.name}-${snap.id.slice(0, 8)}`;
        let group = groups.get(name);
        if (group === undefined) {
          group = { name, run, members: [] };
          groups.set(name, group);
        }
        group.members.push({ snap, pvc: tags.pvc });
        touched.add(group);
      }
      const changed: LogicalSnapshot[] = [];
      for (const g of touched) {
        const built = build(g, ctx, input);
        if (built !== g.built) changed.push(built);
        g.built = built;
      }
      return changed;
    },
    all() {
      const names = [...groups.keys()].sort();
      return names.map((n) => (groups.get(n) as Group).built as LogicalSnapshot);
    },
  };
}

/** Groups one policy's restic snapshots into logical Snapshots, sorted by name. */
export function groupSnapshots(input: GroupInput): LogicalSnapshot[] {
  const grouper = createGrouper(input);
  grouper.add(input.snapshots);
  return grouper.all();
}
