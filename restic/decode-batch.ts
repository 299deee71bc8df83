/**
 * The decode worker's batch work (decode-worker.ts loads it after its first message can already
 * be answered): reading local snapshot files and decoding them (hash, MAC, AES, zstd, JSON).
 * @module
 */
import { closeSync, openSync, readSync } from "node:fs";
import type { CryptoKey } from "./crypto.ts";
import type { DecodeReply, DecodeRequest, PoolOutcome } from "./decode-pool.ts";
import { unpack } from "./decode-pool.ts";
import { classifySystemError, errorCode } from "./errors.ts";
import type { DecodeContext } from "./load.ts";
import { decodeForTransfer, hashMismatchError } from "./load.ts";
import { reusesZstdContext } from "./unpacked.ts";

export type BatchRequest = Exclude<DecodeRequest, { kind: "romix" }>;

const MAX_KEYS = 64;
/** Keys by the pool's key number, so each key's cipher contexts are built once per worker. */
const keys = new Map<number, CryptoKey>();

function keyFor(req: BatchRequest): CryptoKey {
  let key = keys.get(req.keyId);
  if (key === undefined) {
    if (keys.size >= MAX_KEYS) keys.clear();
    key = req.key;
    keys.set(req.keyId, key);
  }
  return key;
}

/** Reads and decodes local files one by one; a hash mismatch is read once more, as restic does. */
function readBatch(ctx: DecodeContext, root: string, ids: readonly string[]): PoolOutcome[] {
  const dir = `${root}/snapshots/`;
  return ids.map((id) => {
    const first = readAndDecode(ctx, dir, id);
    if (!("hashMismatch" in first)) return first;
    const again = readAndDecode(ctx, dir, id);
    return "hashMismatch" in again ? { id, error: hashMismatchError(ctx.repository, id, again.hashMismatch) } : again;
  });
}

function readAndDecode(ctx: DecodeContext, dir: string, id: string): PoolOutcome {
  const read = readLocal(dir + id, id);
  return read instanceof Uint8Array ? decodeForTransfer(ctx, id, read) : read;
}

/** The read buffer of this worker: each file is decoded before the next one is read into it. */
let scratch = Buffer.allocUnsafe(64 * 1024);

/** The file's bytes (a view of `scratch`, valid until the next read), or why it could not be read. */
function readLocal(path: string, id: string): Uint8Array | PoolOutcome {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    return readAll(fd);
  } catch (err) {
    if (classifySystemError(err) === "NotFound") return { id, gone: true };
    return { id, ioError: { code: errorCode(err), message: err instanceof Error ? err.message : String(err) } };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Reads until a read leaves room in the buffer (end of file, as the local backend reads), growing it when full. */
function readAll(fd: number): Uint8Array {
  let n = 0;
  for (;;) {
    const got = readSync(fd, scratch, n, scratch.length - n, null);
    n += got;
    if (got === 0 || n < scratch.length) return scratch.subarray(0, n);
    const bigger = Buffer.allocUnsafe(scratch.length * 2);
    scratch.copy(bigger, 0, 0, n);
    scratch = bigger;
  }
}

/** One batch's outcomes, as the JSON text the pool parses. */
export function decodeBatch(req: BatchRequest): DecodeReply {
  const ctx = { repository: req.repository, key: keyFor(req), version: req.version };
  const outcomes =
    req.kind === "files"
      ? readBatch(ctx, req.root, req.ids)
      : unpack(req.ids, req.ends, req.packed).map((f) => decodeForTransfer(ctx, f.id, f.bytes));
  return { seq: req.seq, json: JSON.stringify(outcomes) };
}

reusesZstdContext();
