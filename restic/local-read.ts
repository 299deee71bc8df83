/**
 * Reading a local repository's snapshot files synchronously, one by one into one reused buffer,
 * each decoded before the next is read: in a decode worker (decode-batch.ts), and on the main
 * thread for a listing too small for the workers, where a file read through the event loop
 * costs several times its decoding.
 * @module
 */
import { closeSync, openSync, readSync } from "node:fs";
import type { PoolOutcome } from "./decode-pool.ts";
import { classifySystemError, errorCode } from "./errors.ts";
import type { DecodeContext, DecodeOutcome } from "./load.ts";
import { hashMismatchError } from "./load.ts";

/** How a file's bytes become its outcome (`bytes` may be reused as soon as it returns). */
export type Decode = (ctx: DecodeContext, id: string, bytes: Uint8Array) => DecodeOutcome;

/** Reads and decodes local files one by one; a hash mismatch is read once more, as restic does. */
export function readLocalFiles(ctx: DecodeContext, root: string, ids: readonly string[], decode: Decode): PoolOutcome[] {
  const dir = `${root}/snapshots/`;
  return ids.map((id) => {
    const first = readAndDecode(ctx, dir, id, decode);
    if (!("hashMismatch" in first)) return first;
    const again = readAndDecode(ctx, dir, id, decode);
    return "hashMismatch" in again ? { id, error: hashMismatchError(ctx.repository, id, again.hashMismatch) } : again;
  });
}

function readAndDecode(ctx: DecodeContext, dir: string, id: string, decode: Decode): PoolOutcome {
  const read = readLocal(dir + id, id);
  return read instanceof Uint8Array ? decode(ctx, id, read) : read;
}

/** The read buffer of this thread: each file is decoded before the next one is read into it. */
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

