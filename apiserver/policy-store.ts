/**
 * The rows of the Snapshot index, per policy, with the sorted views lists are served from and
 * the fan-out of change events to watchers.
 * @module
 */
import type { Snapshot } from "../api/snapshot.ts";
import type { EventLog, EventType, IndexEvent } from "./events.ts";
import type { LogicalSnapshot } from "./grouping.ts";
import { policyKey } from "./types.ts";
import type { PolicyRef, SnapshotReadError, SourceFailure } from "./types.ts";

export interface StoredSnapshot {
  readonly object: Snapshot;
  readonly policyKey: string;
  readonly resticIds: readonly string[];
  /** Sort key: namespace NUL name (orders like the tuple). */
  readonly key: string;
  /** What grouping built the object from (see LogicalSnapshot.sig): equal means unchanged. */
  readonly sig: string;
}

export interface PolicyState {
  readonly ref: PolicyRef;
  rows: Map<string, StoredSnapshot>;
  problem: SourceFailure | undefined;
  readErrors: readonly SnapshotReadError[];
  /** restic IDs deleted through the API that a listing started earlier may still show. */
  readonly forgotten: Set<string>;
  busy: Promise<void> | undefined;
  dirty: boolean;
  /** What the rows were last built from; an equal listing skips grouping. */
  fingerprint: string;
  dropped: boolean;
}

export interface StoreProblem {
  readonly policy: PolicyRef;
  readonly reason: string;
  readonly message: string;
}

export interface PolicyStore {
  ensure(ref: PolicyRef): PolicyState;
  byKey(key: string): PolicyState | undefined;
  keys(): string[];
  /** Removes a policy and emits DELETED for each of its rows. */
  drop(key: string): void;
  /** Replaces a policy's rows, emitting ADDED/MODIFIED/DELETED for the differences. */
  apply(st: PolicyState, groups: readonly LogicalSnapshot[]): void;
  /** Adds or replaces some of a policy's rows (the others stay), emitting ADDED/MODIFIED; returns the rows' objects. */
  upsert(st: PolicyState, groups: readonly LogicalSnapshot[]): Snapshot[];
  /** Removes one row and emits DELETED; returns the deleted state. */
  removeRow(st: PolicyState, name: string): Snapshot | undefined;
  list(namespace?: string): readonly StoredSnapshot[];
  get(namespace: string, name: string): StoredSnapshot | undefined;
  problems(namespace?: string): StoreProblem[];
  subscribe(listener: (e: IndexEvent) => void): () => void;
}

export function sortKey(namespace: string, name: string): string {
  return `${namespace}\u0000${name}`;
}

function withRV(object: Snapshot, rv: number | string): Snapshot {
  return { ...object, metadata: { ...object.metadata, resourceVersion: String(rv) } };
}

function stampInPlace(object: Snapshot, rv: number): Snapshot {
  object.metadata.resourceVersion = String(rv);
  return object;
}

/** Same content, resourceVersion aside (grouping's objects carry an empty one). */
function sameContent(stored: Snapshot, built: Snapshot): boolean {
  return JSON.stringify(withRV(stored, built.metadata.resourceVersion ?? "")) === JSON.stringify(built);
}

class Store implements PolicyStore {
  private readonly log: EventLog;
  private readonly policies = new Map<string, PolicyState>();
  private readonly listeners = new Set<(e: IndexEvent) => void>();
  private views = new Map<string, readonly StoredSnapshot[]>();
  private byName: Map<string, StoredSnapshot> | undefined;

  constructor(log: EventLog) {
    this.log = log;
  }

  private emit(pending: readonly IndexEvent[]): void {
    if (pending.length === 0) return;
    this.views = new Map();
    this.byName = undefined;
    for (const e of pending) {
      this.log.append(e);
      for (const l of this.listeners) notify(l, e);
    }
  }

  /**
   * An event and the object it carries, at the next resourceVersion. An object grouping has just
   * built (resourceVersion still empty, referenced nowhere else yet) takes it in place; a stored
   * one (a DELETED row's last state) is copied.
   */
  private event(type: EventType, object: Snapshot, prev?: Snapshot): IndexEvent {
    const rv = this.log.next();
    const stamped = object.metadata.resourceVersion === "" ? stampInPlace(object, rv) : withRV(object, rv);
    return prev === undefined ? { type, rv, object: stamped } : { type, rv, object: stamped, prev };
  }

  private all(): readonly StoredSnapshot[] {
    const cached = this.views.get("");
    if (cached) return cached;
    const seen = new Map<string, StoredSnapshot>();
    const keys = [...this.policies.keys()].sort();
    for (const k of keys) for (const row of (this.policies.get(k) as PolicyState).rows.values()) if (!seen.has(row.key)) seen.set(row.key, row);
    const sorted = [...seen.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    this.views.set("", sorted);
    this.byName = seen;
    return sorted;
  }

  ensure(ref: PolicyRef): PolicyState {
    const key = policyKey(ref);
    let st = this.policies.get(key);
    if (st === undefined) {
      st = { ref, rows: new Map(), problem: undefined, readErrors: [], forgotten: new Set(), busy: undefined, dirty: false, dropped: false, fingerprint: "" };
      this.policies.set(key, st);
    }
    return st;
  }

  byKey(key: string): PolicyState | undefined {
    return this.policies.get(key);
  }

  keys(): string[] {
    return [...this.policies.keys()];
  }

  drop(key: string): void {
    const st = this.policies.get(key);
    if (st === undefined) return;
    st.dropped = true;
    this.policies.delete(key);
    this.emit([...st.rows.values()].map((row) => this.event("DELETED", row.object)));
  }

  /** The row of `g`, given the policy's current one of that name; an event when it changed. */
  private row(st: PolicyState, g: LogicalSnapshot, old: StoredSnapshot | undefined): { row: StoredSnapshot; event?: IndexEvent } {
    if (old !== undefined && old.sig === g.sig) return { row: old };
    // Other inputs may still build the same object (e.g. a run's status changed in a field this
    // snapshot does not show): no event then.
    if (old !== undefined && sameContent(old.object, g.object)) return { row: { ...old, resticIds: g.resticIds, sig: g.sig } };
    const name = g.object.metadata.name ?? "";
    const event = this.event(old === undefined ? "ADDED" : "MODIFIED", g.object, old?.object);
    return { row: { object: event.object, policyKey: policyKey(st.ref), resticIds: g.resticIds, key: sortKey(st.ref.namespace, name), sig: g.sig }, event };
  }

  apply(st: PolicyState, groups: readonly LogicalSnapshot[]): void {
    const next = new Map<string, StoredSnapshot>();
    const pending: IndexEvent[] = [];
    for (const g of groups) {
      const name = g.object.metadata.name ?? "";
      const { row, event } = this.row(st, g, st.rows.get(name));
      next.set(name, row);
      if (event !== undefined) pending.push(event);
    }
    for (const [name, old] of st.rows) if (!next.has(name)) pending.push(this.event("DELETED", old.object));
    st.rows = next;
    this.emit(pending);
  }

  upsert(st: PolicyState, groups: readonly LogicalSnapshot[]): Snapshot[] {
    const pending: IndexEvent[] = [];
    const objects: Snapshot[] = [];
    for (const g of groups) {
      const name = g.object.metadata.name ?? "";
      const { row, event } = this.row(st, g, st.rows.get(name));
      st.rows.set(name, row);
      objects.push(row.object);
      if (event !== undefined) pending.push(event);
    }
    this.emit(pending);
    return objects;
  }

  removeRow(st: PolicyState, name: string): Snapshot | undefined {
    const old = st.rows.get(name);
    if (old === undefined) return undefined;
    st.rows.delete(name);
    st.fingerprint = "";
    const e = this.event("DELETED", old.object);
    this.emit([e]);
    return e.object;
  }

  list(namespace?: string): readonly StoredSnapshot[] {
    const everything = this.all();
    if (namespace === undefined) return everything;
    const cached = this.views.get(namespace);
    if (cached) return cached;
    const view = everything.filter((s) => s.object.metadata.namespace === namespace);
    this.views.set(namespace, view);
    return view;
  }

  get(namespace: string, name: string): StoredSnapshot | undefined {
    if (this.byName === undefined) this.all();
    return this.byName?.get(sortKey(namespace, name));
  }

  problems(namespace?: string): StoreProblem[] {
    const out: StoreProblem[] = [];
    for (const st of this.policies.values()) {
      if (namespace === undefined || st.ref.namespace === namespace) out.push(...problemsOf(st));
    }
    return out.sort((a, b) => (policyKey(a.policy) < policyKey(b.policy) ? -1 : 1));
  }

  subscribe(listener: (e: IndexEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

function notify(listener: (e: IndexEvent) => void, e: IndexEvent): void {
  try {
    listener(e);
  } catch {
    // a broken watcher must not stop the others; it unsubscribes itself on close
  }
}

function problemsOf(st: PolicyState): StoreProblem[] {
  const out: StoreProblem[] = [];
  if (st.problem) out.push({ policy: st.ref, reason: st.problem.reason, message: st.problem.message });
  const [first] = st.readErrors;
  if (first !== undefined) {
    const message = `${st.readErrors.length} restic snapshot(s) could not be read, e.g. ${first.id}: ${first.message}`;
    out.push({ policy: st.ref, reason: "UnreadableSnapshots", message });
  }
  return out;
}

export function createPolicyStore(log: EventLog): PolicyStore {
  return new Store(log);
}
