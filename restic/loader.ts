/**
 * Fetching and decoding many snapshot files. Few files: decode inline, reading a local
 * repository's files synchronously batch by batch (local-read.ts), others through the backend
 * with bounded concurrency. Many files: decode in the worker pool, batch by batch, and for local
 * repositories let the workers read the files too.
 * @module
 */
import type { Backend } from "./backend.ts";
import { localRootOf, localStorageError } from "./backend.ts";
import type { DecodeItem, DecodePool, PoolOutcome } from "./decode-pool.ts";
import { freezeOutcome } from "./decode-pool.ts";
import { BackendNotFoundError, ResticRepoError } from "./errors.ts";
import type { DecodeContext, DecodeOutcome, SnapshotFileError } from "./load.ts";
import { decodeForTransfer, decodeSnapshotFile, decodeSnapshotFiles, hashMismatchError } from "./load.ts";
import { readLocalFiles } from "./local-read.ts";
import { mapLimit } from "./pool.ts";
import type { ResticSnapshot } from "./snapshot.ts";
import { compareSnapshots } from "./snapshot.ts";

/**
 * Below this many files, starting workers and posting batches costs more than it saves. Measured
 * on 2 cores with workers that still had to start: 1,000 files 80 ms inline vs 145 ms in
 * workers; 2,048: 130 vs 175; 4,096: about 190 either way; 10,000: 350-450 vs 295. Workers that
 * are already running (they derived the key, or an earlier listing used them) win even below it (1,000:
 * 50 ms; 2,048: 65 ms) and keep the event loop free. Steady-state listings fetch only new
 * snapshots and stay inline.
 */
export const POOL_MIN_FILES = 2048;
const BATCH_SIZE = 128;
/** Batches in flight: one being read while another is decoded. */
const BATCHES_IN_FLIGHT = 2;

/**
 * Starts the pool's workers ahead of a listing that will use them (`count` snapshot files to
 * fetch, e.g. every name in snapshots/ when no cache holds any), so that the first batch does
 * not wait for them to load.
 */
export function prestartFor(pool: DecodePool, count: number): void {
  if (count >= POOL_MIN_FILES) pool.prestart();
}

export interface LoadOptions {
  readonly backend: Backend;
  readonly ctx: DecodeContext;
  /** Files read at once through the backend. */
  readonly concurrency: number;
  readonly pool?: DecodePool;
}

export interface Loaded {
  readonly snapshots: ResticSnapshot[];
  readonly errors: SnapshotFileError[];
}

/** Told the snapshots of each batch as it is decoded, before the whole load resolves. */
export type OnSnapshots = (snapshots: readonly ResticSnapshot[]) => void;

/**
 * Loads `snapshots/<id>` for every id. Files gone since the listing are skipped; storage failures
 * are thrown. `onBatch` sees every loaded snapshot once, batch by batch, as the batches finish.
 */
export async function loadSnapshots(opts: LoadOptions, ids: readonly string[], onBatch?: OnSnapshots): Promise<Loaded> {
  const pool = ids.length >= POOL_MIN_FILES ? opts.pool : undefined;
  const root = localRootOf(opts.backend);
  const out: Loaded = { snapshots: [], errors: [] };
  const batches: string[][] = [];
  for (let i = 0; i < ids.length; i += BATCH_SIZE) batches.push(ids.slice(i, i + BATCH_SIZE));
  const workersRead = pool !== undefined && root !== undefined;
  const readsHere = pool === undefined && root !== undefined;
  // Workers that read the files themselves get every batch at once: each keeps working through
  // its queue while this thread takes in (and the caller groups) the batches already done.
  await mapLimit(batches, workersRead ? batches.length : BATCHES_IN_FLIGHT, async (batch) => {
    const outcomes = workersRead ? await inWorkers(opts, pool, root, batch) : readsHere ? await here(opts.ctx, root, batch) : await viaBackend(opts, pool, batch);
    const got: Loaded = { snapshots: [], errors: [] };
    for (const o of outcomes) {
      // Only a hash mismatch needs I/O; the rest are added without a promise each.
      if ("hashMismatch" in o) await reread(opts, o.id, got);
      else collect(opts, o, got);
    }
    // Sorted while the next batches are decoded: the caller's sort then finds sorted runs and
    // every sort key computed, instead of doing all of it after the last batch.
    out.snapshots.push(...got.snapshots.sort(compareSnapshots));
    out.errors.push(...got.errors);
    if (got.snapshots.length > 0) onBatch?.(got.snapshots);
  });
  return out;
}

/** Local repository, many files: the workers read and decode; a failed worker falls back to the backend. */
async function inWorkers(opts: LoadOptions, pool: DecodePool, root: string, batch: readonly string[]): Promise<PoolOutcome[]> {
  try {
    return await pool.readAndDecode(opts.ctx, root, batch);
  } catch {
    return viaBackend(opts, undefined, batch);
  }
}

/** Local repository, few files: read and decoded on this thread, the event loop served between batches. */
async function here(ctx: DecodeContext, root: string, batch: readonly string[]): Promise<PoolOutcome[]> {
  await new Promise((resolve) => setImmediate(resolve));
  return readLocalFiles(ctx, root, batch, decodeHere);
}

function decodeHere(ctx: DecodeContext, id: string, bytes: Uint8Array): DecodeOutcome {
  return freezeOutcome(decodeForTransfer(ctx, id, bytes));
}

async function viaBackend(opts: LoadOptions, pool: DecodePool | undefined, batch: readonly string[]): Promise<PoolOutcome[]> {
  const perBatch = Math.max(1, Math.ceil(opts.concurrency / BATCHES_IN_FLIGHT));
  const read = await mapLimit(batch, perBatch, (id) => readFile(opts.backend, id));
  const items = read.filter((r) => r !== undefined && "bytes" in r);
  const unreadable = read.filter((r) => r !== undefined && "error" in r);
  return [...unreadable, ...(await decodeItems(opts.ctx, items, pool))];
}

/** Decodes in a worker when there is a pool; a failed worker must not fail the listing, so then inline. */
async function decodeItems(ctx: DecodeContext, items: readonly DecodeItem[], pool: DecodePool | undefined): Promise<PoolOutcome[]> {
  if (pool !== undefined && items.length > 0) {
    try {
      return await pool.decode(ctx, items);
    } catch {
      // fall through
    }
  }
  return decodeSnapshotFiles(ctx, items);
}

/** The file's bytes; undefined when it is gone; an error outcome when only this file is unusable. */
async function readFile(backend: Backend, id: string): Promise<DecodeItem | { id: string; error: SnapshotFileError } | undefined> {
  try {
    return { id, bytes: await backend.read(`snapshots/${id}`) };
  } catch (err) {
    if (err instanceof BackendNotFoundError) return undefined;
    if (err instanceof ResticRepoError && err.code === "CorruptFile") return { id, error: { id, code: err.code, message: err.message } };
    throw err;
  }
}

/** Adds one outcome that needs no I/O (a vanished file adds nothing; a storage failure is thrown). */
function collect(opts: LoadOptions, o: Exclude<PoolOutcome, { hashMismatch: string }>, out: Loaded): void {
  if ("snapshot" in o) out.snapshots.push(o.snapshot);
  else if ("error" in o) out.errors.push(o.error);
  else if ("ioError" in o) {
    const err = localStorageError(Object.assign(new Error(o.ioError.message), { code: o.ioError.code }), opts.backend.describe(), `snapshots/${o.id}`);
    if (!(err instanceof ResticRepoError && err.code === "CorruptFile")) throw err;
    out.errors.push({ id: o.id, code: err.code, message: err.message });
  }
}

/** A file whose bytes did not hash to its name is read once more, as restic does, before it counts as damage. */
async function reread(opts: LoadOptions, id: string, out: Loaded): Promise<void> {
  const again = await readFile(opts.backend, id);
  if (again === undefined) return;
  if ("error" in again) {
    out.errors.push(again.error);
    return;
  }
  const retry = decodeSnapshotFile(opts.ctx, id, again.bytes);
  if ("hashMismatch" in retry) out.errors.push(hashMismatchError(opts.ctx.repository, id, retry.hashMismatch));
  else collect(opts, retry, out);
}
