/**
 * The in-memory Snapshot index: per policy (repository), refreshed on demand and periodically;
 * one process-wide resourceVersion; watch events for every change. A repository that fails
 * keeps its last good rows and records the problem; it never breaks the others.
 * @module
 */
import { createEventLog } from "./events.ts";
import type { EventLog, IndexEvent } from "./events.ts";
import type { FirstListing } from "./first-listing.ts";
import { startFirstListing } from "./first-listing.ts";
import { groupSnapshots } from "./grouping.ts";
import type { LogicalSnapshot } from "./grouping.ts";
import { createPolicyStore } from "./policy-store.ts";
import type { PolicyState, PolicyStore, StoredSnapshot } from "./policy-store.ts";
import { parsePolicyKey, policyKey } from "./types.ts";
import type { PolicyRef, ResticSnapshotLike, RunInfo, SourceFailure, SourceResult } from "./types.ts";

import type { DeleteOutcome, DeleteRequest, IndexDeps, ListedEvent, PolicyProblem, SnapshotIndex } from "./index-types.ts";

export type { StoredSnapshot } from "./policy-store.ts";
export type { DeleteOutcome, DeleteRequest, IndexDeps, ListedEvent, PolicyProblem, SnapshotIndex } from "./index-types.ts";

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** At most `width` holders at once; the others wait in order. */
function semaphore(width: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (fn) => {
    if (active >= width) await new Promise<void>((resolve) => waiting.push(resolve));
    else active++;
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

/** A successful listing and the BackupRuns it is grouped with. */
interface Listing {
  readonly result: Extract<SourceResult, { ok: true }>;
  readonly runs: ReadonlyMap<string, RunInfo>;
}

function preconditionFailure(stored: StoredSnapshot, req: DeleteRequest): string | undefined {
  const pre = req.preconditions;
  const meta = stored.object.metadata;
  if (pre?.uid !== undefined && pre.uid !== meta.uid) {
    return `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${meta.uid ?? ""}`;
  }
  if (pre?.resourceVersion !== undefined && pre.resourceVersion !== meta.resourceVersion) {
    return `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${meta.resourceVersion ?? ""}`;
  }
  if (stored.object.status.phase === "InProgress") {
    return `the snapshot is InProgress: BackupRun "${stored.object.spec.run ?? ""}" is still running; delete it after the run has ended`;
  }
  return undefined;
}

class Index implements SnapshotIndex {
  private readonly deps: IndexDeps;
  private readonly events: EventLog;
  private readonly store: PolicyStore;
  /** Bounds concurrent repository listings (each may derive a key with scrypt). */
  private readonly limit: <T>(fn: () => Promise<T>) => Promise<T>;
  private catalogProblem: PolicyProblem | undefined;
  private allBusy: Promise<void> | undefined;
  private isReady = false;
  private cancel: (() => void) | undefined;

  constructor(deps: IndexDeps) {
    this.deps = deps;
    this.events = createEventLog({ clock: deps.clock, capacity: deps.eventCapacity ?? 10_000 });
    this.store = createPolicyStore(this.events);
    this.limit = semaphore(deps.concurrency ?? 4);
  }

  private async listOnce(st: PolicyState): Promise<void> {
    const started = this.deps.clock.now();
    const runsLookup = this.deps.runs.runs(st.ref);
    runsLookup.catch(() => undefined);
    const first = st.fingerprint === "" && st.rows.size === 0 ? this.firstListing(st) : undefined;
    if (first !== undefined) void runsLookup.then((r) => first.setRuns(r), () => undefined);
    const listing = await this.fetch(st, runsLookup, first);
    if (listing !== undefined && !st.dropped) this.applyListing(st, listing, { first, started });
  }

  /** The listing and the policy's BackupRuns; undefined (and the policy degraded) when either fails. */
  private async fetch(st: PolicyState, runsLookup: Promise<ReadonlyMap<string, RunInfo>>, first: FirstListing | undefined): Promise<Listing | undefined> {
    let result;
    try {
      result = await this.deps.sources.list(st.ref, first?.onBatch);
    } catch (err) {
      result = { ok: false as const, error: { reason: "ListFailed", message: errorMessage(err) } };
    }
    if (!result.ok) return void this.failed(st, result.error);
    try {
      return { result, runs: await runsLookup };
    } catch (err) {
      return void this.failed(st, { reason: "RunLookupFailed", message: `cannot read the BackupRuns of policy ${policyKey(st.ref)}: ${errorMessage(err)}` });
    }
  }

  private applyListing(st: PolicyState, { result, runs }: Listing, at: { first: FirstListing | undefined; started: number }): void {
    const ref = st.ref;
    if (st.forgotten.size > 0) {
      const live = new Set(result.snapshots.map((s) => s.id));
      for (const id of st.forgotten) if (!live.has(id)) st.forgotten.delete(id);
    }
    const snapshots = st.forgotten.size === 0 ? result.snapshots : result.snapshots.filter((s) => !st.forgotten.has(s.id));
    st.problem = undefined;
    st.readErrors = result.errors;
    this.tell({ policy: ref, unreadable: result.errors });
    // restic snapshot files are content-addressed: same IDs and same runs mean same objects. The
    // reader lists in a stable order, so the IDs need no sorting here; groups whose inputs did
    // not change are reused by groupSnapshots.
    const fingerprint = `${result.repositoryId}\n${snapshots.map((s) => s.id).join(",")}\n${JSON.stringify([...runs].sort(([a], [b]) => (a < b ? -1 : 1)))}`;
    if (fingerprint === st.fingerprint) return;
    const listed = this.deps.clock.now();
    const stored = this.group(st, { result, runs, snapshots }, at.first);
    st.fingerprint = fingerprint;
    const timing = { listMs: listed - at.started, groupMs: this.deps.clock.now() - listed };
    this.deps.log.debug({ policy: policyKey(ref), snapshots: snapshots.length, ...stored, ...timing }, "snapshot repository listed");
  }

  /**
   * Groups a listing and stores its rows. A first listing grouped as it was read has stored all
   * but the groups it held back; only those are left (unless a snapshot was deleted through the
   * API meanwhile: it may sit in a stored group, so then all is grouped again).
   */
  private group(st: PolicyState, listing: Listing & { snapshots: readonly ResticSnapshotLike[] }, first: FirstListing | undefined): { objects: number; streamed: boolean } {
    const { result, runs, snapshots } = listing;
    first?.setRuns(runs);
    const streamed = st.forgotten.size === 0 ? first?.groups({ repositoryId: result.repositoryId, count: result.snapshots.length }, runs) : undefined;
    if (streamed !== undefined) {
      this.upsert(st, streamed.rest);
      return { objects: streamed.all.length, streamed: true };
    }
    const groups: LogicalSnapshot[] = groupSnapshots({ policy: st.ref, repositoryId: result.repositoryId, snapshots, runs, previous: st.rows });
    this.store.apply(st, groups);
    return { objects: groups.length, streamed: false };
  }

  /** A first listing whose Complete groups are stored batch by batch (first-listing.ts). */
  private firstListing(st: PolicyState): FirstListing {
    return startFirstListing({
      policy: st.ref,
      forgotten: st.forgotten,
      store: (groups) => {
        if (!st.dropped) this.upsert(st, groups);
      },
    });
  }

  /** Stores some of a first listing's groups (the policy's other rows stay) and tells onStored. */
  private upsert(st: PolicyState, groups: readonly LogicalSnapshot[]): void {
    const objects = this.store.upsert(st, groups);
    this.deps.onStored?.(objects);
  }

  private failed(st: PolicyState, error: SourceFailure): void {
    if (st.dropped) return;
    if (error.reason === "PolicyNotFound") {
      this.store.drop(policyKey(st.ref));
      return;
    }
    if (st.problem?.message !== error.message) {
      this.deps.log.warn({ policy: policyKey(st.ref), reason: error.reason, error: error.message }, "snapshot repository degraded");
    }
    st.problem = error;
    this.tell({ policy: st.ref, problem: error, unreadable: [] });
  }

  private tell(e: ListedEvent): void {
    try {
      this.deps.onListed?.(e);
    } catch (err) {
      this.deps.log.warn({ policy: policyKey(e.policy), error: errorMessage(err) }, "snapshot listing observer failed");
    }
  }

  private refreshRef(ref: PolicyRef): Promise<void> {
    const st = this.store.ensure(ref);
    if (st.busy) {
      st.dirty = true;
      return st.busy;
    }
    st.busy = (async () => {
      try {
        do {
          st.dirty = false;
          await this.limit(() => this.listOnce(st));
        } while (st.dirty && !st.dropped);
      } finally {
        st.busy = undefined;
      }
    })();
    return st.busy;
  }

  private async refreshAllOnce(): Promise<void> {
    let refs: readonly PolicyRef[];
    try {
      refs = await this.deps.sources.policies();
    } catch (err) {
      this.catalogProblem = { reason: "PolicyListFailed", message: `cannot list BackupPolicies: ${errorMessage(err)}` };
      this.deps.log.warn({ error: this.catalogProblem.message }, "snapshot policy catalogue degraded");
      return;
    }
    this.catalogProblem = undefined;
    const wanted = new Set(refs.map(policyKey));
    for (const key of this.store.keys()) if (!wanted.has(key)) this.store.drop(key);
    await Promise.all(refs.map((ref) => this.refreshRef(ref)));
  }

  refresh(key: string): Promise<void> {
    const ref = parsePolicyKey(key);
    if (ref === undefined) {
      this.deps.log.warn({ key }, "snapshot refresh ignored: key is not namespace/name");
      return Promise.resolve();
    }
    return this.refreshRef(ref);
  }

  refreshAll(): Promise<void> {
    this.allBusy ??= this.refreshAllOnce().finally(() => {
      this.allBusy = undefined;
      this.isReady = true;
    });
    return this.allBusy;
  }

  start(): void {
    void this.refreshAll();
    if (this.deps.every && this.cancel === undefined) this.cancel = this.deps.every(this.deps.refreshIntervalMs ?? 60_000, () => void this.refreshAll());
  }

  stop(): void {
    this.cancel?.();
    this.cancel = undefined;
  }

  ready(): boolean {
    return this.isReady;
  }

  resourceVersion(): number {
    return this.events.current();
  }

  list(namespace?: string): readonly StoredSnapshot[] {
    return this.store.list(namespace);
  }

  get(namespace: string, name: string): StoredSnapshot | undefined {
    return this.store.get(namespace, name);
  }

  problems(namespace?: string): readonly PolicyProblem[] {
    const own = this.store.problems(namespace);
    return this.catalogProblem === undefined ? own : [this.catalogProblem, ...own];
  }

  eventsSince(rv: number): readonly IndexEvent[] | "expired" {
    return this.events.since(rv);
  }

  oldestResourceVersion(): number {
    return this.events.oldest();
  }

  subscribe(listener: (e: IndexEvent) => void): () => void {
    return this.store.subscribe(listener);
  }

  async delete(namespace: string, name: string, req: DeleteRequest): Promise<DeleteOutcome> {
    const stored = this.store.get(namespace, name);
    if (stored === undefined) return { outcome: "NotFound" };
    const conflict = preconditionFailure(stored, req);
    if (conflict !== undefined) return { outcome: "Conflict", message: conflict };
    if (req.dryRun) return { outcome: "Deleted", object: stored.object };
    const st = this.store.byKey(stored.policyKey);
    if (st === undefined) return { outcome: "NotFound" };
    try {
      for (const id of stored.resticIds) {
        await this.deps.sources.forget(st.ref, id);
        st.forgotten.add(id);
      }
    } catch (err) {
      this.deps.log.warn({ policy: stored.policyKey, snapshot: name, error: errorMessage(err) }, "snapshot forget failed");
      void this.refreshRef(st.ref);
      throw err;
    }
    const removed = this.store.removeRow(st, name);
    return { outcome: "Deleted", object: removed ?? stored.object };
  }
}

export function createSnapshotIndex(deps: IndexDeps): SnapshotIndex {
  return new Index(deps);
}
