/**
 * The decode worker's batch work (decode-worker.ts loads it after its first message can already
 * be answered): reading local snapshot files (local-read.ts) and decoding them (hash, MAC, AES,
 * zstd, JSON).
 * @module
 */
import type { CryptoKey } from "./crypto.ts";
import type { DecodeReply, DecodeRequest } from "./decode-pool.ts";
import { unpack } from "./decode-pool.ts";
import { decodeForTransfer } from "./load.ts";
import { readLocalFiles } from "./local-read.ts";
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

/** One batch's outcomes, as the JSON text the pool parses. */
export function decodeBatch(req: BatchRequest): DecodeReply {
  const ctx = { repository: req.repository, key: keyFor(req), version: req.version };
  const outcomes =
    req.kind === "files"
      ? readLocalFiles(ctx, req.root, req.ids, decodeForTransfer)
      : unpack(req.ids, req.ends, req.packed).map((f) => decodeForTransfer(ctx, f.id, f.bytes));
  return { seq: req.seq, json: JSON.stringify(outcomes) };
}

reusesZstdContext();
