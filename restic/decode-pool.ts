/**
 * A small pool of worker threads that decode snapshot files (hash, MAC, AES, zstd, JSON) and,
 * for repositories on a local or NFS path, read them too. A cold listing of thousands of
 * snapshots then uses every core, keeps the event loop free, and keeps slow or hung file reads
 * off libuv's shared thread pool. Workers start on first use and hold the process open only
 * while they have work.
 * @module
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { CryptoKey } from "./crypto.ts";
import type { DecodeContext, DecodeOutcome } from "./load.ts";
import { freezeSnapshot } from "./snapshot.ts";
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
  | (RequestBase & { readonly kind: "files"; readonly root: string });

export type DecodeReply =
  | { readonly seq: number; readonly outcomes: PoolOutcome[] }
  | { readonly seq: number; readonly failure: string };

export interface DecodePool {
  /** Number of workers. */
  readonly size: number;
  /** Decodes a batch in one worker; rejects only if the worker fails (the caller may decode inline). */
  decode(ctx: DecodeContext, items: readonly DecodeItem[]): Promise<PoolOutcome[]>;
  /** Reads `<root>/snapshots/<id>` in a worker (synchronously there) and decodes them. */
  readAndDecode(ctx: DecodeContext, root: string, ids: readonly string[]): Promise<PoolOutcome[]>;
  /** Stops the workers; a later call starts new ones. */
  close(): Promise<void>;
}

/** Workers for this machine: one per core, at most 4. */
export function defaultPoolSize(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

interface Slot {
  readonly worker: Worker;
  busy: number;
}

interface Pending {
  readonly slot: Slot;
  resolve(outcomes: PoolOutcome[]): void;
  reject(err: Error): void;
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

export function createDecodePool(opts: { readonly size: number }): DecodePool {
  if (!Number.isInteger(opts.size) || opts.size < 1) throw new RangeError(`decode pool size must be an integer ≥ 1, got ${opts.size}`);
  const slots: Slot[] = [];
  const pending = new Map<number, Pending>();
  let seq = 0;

  const settle = (slot: Slot, reply: DecodeReply): void => {
    const p = pending.get(reply.seq);
    if (p === undefined) return;
    pending.delete(reply.seq);
    if (--slot.busy === 0) slot.worker.unref();
    if ("failure" in reply) p.reject(new Error(`restic decode worker failed: ${reply.failure}`));
    else p.resolve(reply.outcomes.map(freezeOutcome));
  };
  const fail = (slot: Slot, err: Error): void => {
    const i = slots.indexOf(slot);
    if (i >= 0) slots.splice(i, 1);
    for (const [n, p] of pending) {
      if (p.slot !== slot) continue;
      pending.delete(n);
      p.reject(err);
    }
  };
  const start = (): Slot => {
    const worker = new Worker(new URL("./decode-worker.ts", import.meta.url));
    const slot: Slot = { worker, busy: 0 };
    worker.on("message", (reply: DecodeReply) => settle(slot, reply));
    worker.on("error", (err: unknown) => fail(slot, err instanceof Error ? err : new Error(String(err))));
    worker.on("exit", (code) => fail(slot, new Error(`restic decode worker exited with code ${code}`)));
    worker.unref();
    slots.push(slot);
    return slot;
  };
  const send = (req: DecodeRequest, transfer: ArrayBuffer[]): Promise<PoolOutcome[]> => {
    while (slots.length < opts.size) start();
    const slot = slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    return new Promise((resolve, reject) => {
      pending.set(req.seq, { slot, resolve, reject });
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
    async close() {
      const all = slots.splice(0);
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

function freezeOutcome(o: PoolOutcome): PoolOutcome {
  return "snapshot" in o ? { id: o.id, snapshot: freezeSnapshot(o.snapshot) } : o;
}
