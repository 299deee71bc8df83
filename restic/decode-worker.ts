/**
 * Decode worker: turns batches of snapshot files into snapshots off the main thread, reading
 * them itself for local repositories. Started by decode-pool.ts; never imported.
 * @module
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parentPort } from "node:worker_threads";
import type { CryptoKey } from "./crypto.ts";
import type { DecodeReply, DecodeRequest, PoolOutcome } from "./decode-pool.ts";
import { unpack } from "./decode-pool.ts";
import { classifySystemError, errorCode } from "./errors.ts";
import type { DecodeContext } from "./load.ts";
import { decodeSnapshotFile, decodeSnapshotFiles, hashMismatchError } from "./load.ts";

const MAX_KEYS = 64;
/** Keys by the pool's key number, so each key's cipher contexts are built once per worker. */
const keys = new Map<number, CryptoKey>();

function keyFor(req: DecodeRequest): CryptoKey {
  let key = keys.get(req.keyId);
  if (key === undefined) {
    if (keys.size >= MAX_KEYS) keys.clear();
    key = req.key;
    keys.set(req.keyId, key);
  }
  return key;
}

/** Reads and decodes local files; a hash mismatch is read once more, as restic does. */
function readBatch(ctx: DecodeContext, root: string, ids: readonly string[]): PoolOutcome[] {
  const out = new Array<PoolOutcome>(ids.length);
  const files: { id: string; bytes: Uint8Array }[] = [];
  const at: number[] = [];
  ids.forEach((id, i) => {
    const read = readLocal(root, id);
    if ("bytes" in read) {
      files.push({ id, bytes: read.bytes });
      at.push(i);
    } else out[i] = read;
  });
  decodeSnapshotFiles(ctx, files).forEach((o, k) => {
    out[at[k] as number] = "hashMismatch" in o ? retry(ctx, root, o.id) : o;
  });
  return out;
}

function retry(ctx: DecodeContext, root: string, id: string): PoolOutcome {
  const read = readLocal(root, id);
  if (!("bytes" in read)) return read;
  const again = decodeSnapshotFile(ctx, id, read.bytes);
  return "hashMismatch" in again ? { id, error: hashMismatchError(ctx.repository, id, again.hashMismatch) } : again;
}

function readLocal(root: string, id: string): { bytes: Uint8Array } | PoolOutcome {
  try {
    return { bytes: readFileSync(join(root, "snapshots", id)) };
  } catch (err) {
    if (classifySystemError(err) === "NotFound") return { id, gone: true };
    return { id, ioError: { code: errorCode(err), message: err instanceof Error ? err.message : String(err) } };
  }
}

function handle(req: DecodeRequest): DecodeReply {
  try {
    const ctx = { repository: req.repository, key: keyFor(req), version: req.version };
    const outcomes =
      req.kind === "files"
        ? readBatch(ctx, req.root, req.ids)
        : decodeSnapshotFiles(ctx, unpack(req.ids, req.ends, req.packed));
    return { seq: req.seq, outcomes };
  } catch (err) {
    return { seq: req.seq, failure: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
}

const port = parentPort;
if (port === null) throw new Error("decode-worker.ts must run as a worker thread (started by decode-pool.ts)");
port.on("message", (req: DecodeRequest) => port.postMessage(handle(req)));
