/**
 * A small pool of worker threads that decode snapshot files (hash, MAC, AES, zstd, JSON) and,
 * for repositories on a local or NFS path, read them too; they also run the ROMix parts of a key
 * derivation (scrypt.ts). A cold listing of thousands of snapshots then uses every core, keeps
 * the event loop free, and keeps slow or hung file reads off libuv's shared thread pool. Workers
 * start on first use and hold the process open only while they have work.
 * @module
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { CryptoKey } from "./crypto.ts";
import type { DecodeContext, DecodeOutcome } from "./load.ts";
import type { SharedBlocks } from "./scrypt.ts";
import { freezeBuiltSnapshot, rememberTimeKey } from "./snapshot.ts";
import type { RepoVersion } from "./unpacked.ts";

export interface DecodeItem {
  readonly id: string;
  readonly bytes: Uint8Array;
}

/** What a worker may answer per file: decoded, damaged, vanished, or a storage error to raise. */
export type PoolOutcome =
  | DecodeOutcome
  | { readonly id: string; readonly gone: true }
  | { readonly id: string; readonly ioError: { readonly code: string | undefined; readonly message: string } };

interface RequestBase {
  readonly seq: number;
  readonly keyId: number;
  readonly key: CryptoKey;
  readonly version: RepoVersion;
  readonly repository: string;
  readonly ids: readonly string[];
}

/**
 * One batch for a worker: either the files' bytes, packed in one transferred buffer (`ends[i]`
 * is where file i stops; cloning a small Uint8Array would copy its whole, possibly shared,
 * ArrayBuffer), or a repository root the worker reads `snapshots/<id>` from itself.
 */
export type DecodeRequest =
  | (RequestBase & { readonly kind: "bytes"; readonly ends: readonly number[]; readonly packed: Uint8Array })
  | (RequestBase & { readonly kind: "files"; readonly root: string })
  /** Claim and mix blocks of a key derivation until none is left (scrypt.ts, mixClaimed). */
  | { readonly kind: "romix"; readonly seq: number; readonly shared: SharedBlocks };

/**
 * A batch's outcomes travel as JSON text (`PoolOutcome[]`): stringifying in the worker and
 * parsing here costs about half of what structured cloning the objects does on each side.
 */
export type DecodeReply =
  | { readonly seq: number; readonly json: string }
  /** A "romix" request is done: how many blocks this worker mixed. */
  | { readonly seq: number; readonly mixed: number }
  | { readonly seq: number; readonly failure: string }
  /** Posted once by each worker when its modules are loaded. */
  | { readonly ready: true };

export interface DecodePool {
  /** Number of workers. */
  readonly size: number;
  /** Decodes a batch in one worker; rejects only if the worker fails (the caller may decode inline). */
  decode(ctx: DecodeContext, items: readonly DecodeItem[]): Promise<PoolOutcome[]>;
  /** Reads `<root>/snapshots/<id>` in a worker (synchronously there) and decodes them. */
  readAndDecode(ctx: DecodeContext, root: string, ids: readonly string[]): Promise<PoolOutcome[]>;
  /**
   * One worker (the least busy) as a lane of a key derivation: it mixes blocks of `shared` until
   * none is left to claim, and resolves with how many it mixed.
   */
  romix(shared: SharedBlocks): Promise<number>;
  /**
   * Starts the workers now rather than on the first request (each takes tens of milliseconds to
   * load its modules), e.g. as the process starts, before the key derivation that needs them.
   */
  prestart(): void;
  /** Stops the workers; a later call starts new ones. */
  close(): Promise<void>;
}

/**
 * Workers for this machine: one per core but one, at most 4. The main thread keeps a core of its
 * own: it groups, stores and renders what the workers decode, and it is a ROMix lane of its own
 * (repository.ts). On two cores a second worker only made the three threads share two cores:
 * the same time, 0.1 s more CPU (docs/snapshots-cold-start.md).
 */
export function defaultPoolSize(cores: number = availableParallelism()): number {
  return Math.max(1, Math.min(4, cores - 1));
}

interface Slot {
  readonly worker: Worker;
  busy: number;
}

interface Pending {
  readonly slot: Slot;
  resolve(value: PoolOutcome[] | number): void;
  reject(err: Error): void;
}

interface PoolState {
  readonly size: number;
  readonly slots: Slot[];
  readonly pending: Map<number, Pending>;
}

const keyIds = new WeakMap<CryptoKey, number>();
let nextKeyId = 1;

function keyIdOf(key: CryptoKey): number {
  let id = keyIds.get(key);
  if (id === undefined) {
    id = nextKeyId++;
    keyIds.set(key, id);
  }
  return id;
}

function settle(state: PoolState, slot: Slot, reply: DecodeReply): void {
  if ("ready" in reply) return;
  const p = state.pending.get(reply.seq);
  if (p === undefined) return;
  state.pending.delete(reply.seq);
  if (--slot.busy === 0) slot.worker.unref();
  deliver(p, reply);
}

/** Resolves a batch with its outcomes, frozen; a failure, or a reply that does not parse, rejects it (the loader then decodes it inline). */
function deliver(p: Pending, reply: Exclude<DecodeReply, { ready: true }>): void {
  if ("failure" in reply) {
    p.reject(new Error(`restic decode worker failed: ${reply.failure}`));
    return;
  }
  if ("mixed" in reply) {
    p.resolve(reply.mixed);
    return;
  }
  try {
    p.resolve((JSON.parse(reply.json) as PoolOutcome[]).map(freezeOutcome));
  } catch (err) {
    p.reject(new Error(`restic decode worker reply does not parse: ${(err as Error).message}`));
  }
}

function fail(state: PoolState, slot: Slot, err: Error): void {
  const i = state.slots.indexOf(slot);
  if (i >= 0) state.slots.splice(i, 1);
  for (const [n, p] of state.pending) {
    if (p.slot !== slot) continue;
    state.pending.delete(n);
    p.reject(err);
  }
}

/** Starts workers until the pool has its size. */
function fill(state: PoolState): void {
  while (state.slots.length < state.size) startWorker(state);
}

/**
 * The worker's module: decode-worker.ts beside this one, or decode-worker.js when this code runs
 * from a bundle (scripts/bundle.ts puts the worker's entry beside its chunks).
 */
const WORKER_URL = new URL(import.meta.url.endsWith(".ts") ? "./decode-worker.ts" : "./decode-worker.js", import.meta.url);

function startWorker(state: PoolState): Slot {
  const worker = new Worker(WORKER_URL);
  const slot: Slot = { worker, busy: 0 };
  worker.on("message", (reply: DecodeReply) => settle(state, slot, reply));
  worker.on("error", (err: unknown) => fail(state, slot, err instanceof Error ? err : new Error(String(err))));
  worker.on("exit", (code) => fail(state, slot, new Error(`restic decode worker exited with code ${code}`)));
  worker.unref();
  state.slots.push(slot);
  return slot;
}

export function createDecodePool(opts: { readonly size: number }): DecodePool {
  if (!Number.isInteger(opts.size) || opts.size < 1) throw new RangeError(`decode pool size must be an integer ≥ 1, got ${opts.size}`);
  const state: PoolState = { size: opts.size, slots: [], pending: new Map() };
  let seq = 0;
  const send = <T extends PoolOutcome[] | number>(req: DecodeRequest, transfer: ArrayBuffer[]): Promise<T> => {
    fill(state);
    const slot = state.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    return new Promise<T>((resolve, reject) => {
      state.pending.set(req.seq, { slot, resolve: resolve as Pending["resolve"], reject });
      if (slot.busy++ === 0) slot.worker.ref();
      slot.worker.postMessage(req, transfer);
    });
  };
  const base = (ctx: DecodeContext, ids: readonly string[]): RequestBase => ({
    seq: ++seq,
    keyId: keyIdOf(ctx.key),
    key: ctx.key,
    version: ctx.version,
    repository: ctx.repository,
    ids,
  });

  return {
    size: opts.size,
    decode(ctx, items) {
      const { packed, ends } = pack(items);
      return send({ ...base(ctx, items.map((i) => i.id)), kind: "bytes", packed, ends }, [packed.buffer as ArrayBuffer]);
    },
    readAndDecode(ctx, root, ids) {
      return send({ ...base(ctx, ids), kind: "files", root }, []);
    },
    romix(shared) {
      return send({ kind: "romix", seq: ++seq, shared }, []);
    },
    prestart() {
      fill(state);
    },
    async close() {
      const all = state.slots.splice(0);
      await Promise.all(all.map((s) => s.worker.terminate()));
    },
  };
}

function pack(items: readonly DecodeItem[]): { packed: Uint8Array; ends: number[] } {
  const ends: number[] = [];
  let total = 0;
  for (const item of items) ends.push((total += item.bytes.length));
  const packed = new Uint8Array(total);
  items.forEach((item, i) => packed.set(item.bytes, (ends[i] ?? 0) - item.bytes.length));
  return { packed, ends };
}

/** The files of a "bytes" request, as views into its packed buffer. */
export function unpack(ids: readonly string[], ends: readonly number[], packed: Uint8Array): DecodeItem[] {
  return ids.map((id, i) => ({ id, bytes: packed.subarray(i === 0 ? 0 : (ends[i - 1] ?? 0), ends[i]) }));
}

/** A worker's outcome as this thread keeps it: the snapshot frozen, its sort key remembered. */
export function freezeOutcome(o: DecodeOutcome): DecodeOutcome;
export function freezeOutcome(o: PoolOutcome): PoolOutcome;
export function freezeOutcome(o: PoolOutcome): PoolOutcome {
  if (!("snapshot" in o)) return o;
  if (o.timeKey !== undefined) rememberTimeKey(o.snapshot, o.timeKey);
  freezeBuiltSnapshot(o.snapshot);
  return { id: o.id, snapshot: o.snapshot };
}
