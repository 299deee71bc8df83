/**
 * Decode worker: runs ROMix for key derivations, and turns batches of snapshot files into
 * snapshots off the main thread, reading them itself for local repositories. Started by
 * decode-pool.ts; never imported. It says it is ready as soon as it can run ROMix (the first
 * thing a new process asks of it), and loads the batch work (decode-batch.ts) meanwhile.
 * @module
 */
import { parentPort } from "node:worker_threads";
import type { BatchRequest } from "./decode-batch.ts";
import type { DecodeReply, DecodeRequest } from "./decode-pool.ts";
import { mixClaimed } from "./scrypt.ts";

const port = parentPort;
if (port === null) throw new Error("decode-worker.ts must run as a worker thread (started by decode-pool.ts)");

function failure(seq: number, err: unknown): DecodeReply {
  return { seq, failure: err instanceof Error ? (err.stack ?? err.message) : String(err) };
}

function romix(req: Extract<DecodeRequest, { kind: "romix" }>): void {
  let reply: DecodeReply;
  try {
    reply = { seq: req.seq, mixed: mixClaimed(req.shared) };
  } catch (err) {
    reply = failure(req.seq, err);
  }
  port?.postMessage(reply);
}

const batchWork = import("./decode-batch.ts");

async function batch(req: BatchRequest): Promise<void> {
  let reply: DecodeReply;
  try {
    reply = (await batchWork).decodeBatch(req);
  } catch (err) {
    reply = failure(req.seq, err);
  }
  port?.postMessage(reply);
}

port.on("message", (req: DecodeRequest) => {
  if (req.kind === "romix") romix(req);
  else void batch(req);
});
port.postMessage({ ready: true } satisfies DecodeReply);
