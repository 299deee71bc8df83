/**
 * Turning one snapshot file's bytes into a snapshot: hash check, MAC check, decryption,
 * decompression, JSON shape. Pure (no I/O), so it runs inline or in a decode worker. Every way
 * the file itself can be bad becomes a CorruptFile error naming the repository and the file.
 * @module
 */
import { hash } from "node:crypto";
import type { CryptoKey } from "./crypto.ts";
import { DecryptError, decrypt } from "./crypto.ts";
import type { ResticErrorCode } from "./errors.ts";
import { ResticRepoError } from "./errors.ts";
import type { ResticSnapshot } from "./snapshot.ts";
import { SnapshotFormatError, buildSnapshot, parseSnapshot, timeKey } from "./snapshot.ts";
import type { RepoVersion } from "./unpacked.ts";
import { UnpackedFormatError, parseUnpacked } from "./unpacked.ts";

/** A snapshot file that was listed but could not be read; the other snapshots are still returned. */
export interface SnapshotFileError {
  readonly id: string;
  readonly code: ResticErrorCode;
  readonly message: string;
}

/** What decoding needs: plain data, so it can be posted to a worker. */
export interface DecodeContext {
  /** The repository, as `Backend.describe()` prints it (for messages). */
  readonly repository: string;
  readonly key: CryptoKey;
  readonly version: RepoVersion;
}

/** `hashMismatch`: the bytes are not the file named `id` (restic reads such a file once more). */
export type DecodeOutcome =
  /** `timeKey`: the snapshot's sort key, when computed where it was decoded (a worker). */
  | { readonly id: string; readonly snapshot: ResticSnapshot; readonly timeKey?: string }
  | { readonly id: string; readonly error: SnapshotFileError }
  | { readonly id: string; readonly hashMismatch: string };

export function sha256Hex(bytes: Uint8Array): string {
  return hash("sha256", bytes, "hex");
}

/** Checks SHA-256(bytes) == id, then decodes; never throws for a bad file. */
export function decodeSnapshotFile(ctx: DecodeContext, id: string, bytes: Uint8Array): DecodeOutcome {
  return decodeFile(ctx, { id, bytes, build: parseSnapshot });
}

/** decodeSnapshotFile for many files; outcome i is for file i. */
export function decodeSnapshotFiles(ctx: DecodeContext, files: readonly { id: string; bytes: Uint8Array }[]): DecodeOutcome[] {
  return files.map(({ id, bytes }) => decodeSnapshotFile(ctx, id, bytes));
}

/**
 * decodeSnapshotFile for a decode worker: the snapshot is left unfrozen (it travels to the main
 * thread as JSON text, and the pool freezes what it parses), and `bytes` may be reused as soon
 * as this returns.
 */
export function decodeForTransfer(ctx: DecodeContext, id: string, bytes: Uint8Array): DecodeOutcome {
  const out = decodeFile(ctx, { id, bytes, build: buildSnapshot });
  return "snapshot" in out ? { ...out, timeKey: timeKey(out.snapshot.time) } : out;
}

function decodeFile(ctx: DecodeContext, file: { id: string; bytes: Uint8Array; build: typeof parseSnapshot }): DecodeOutcome {
  const { id, bytes } = file;
  const actual = sha256Hex(bytes);
  if (actual !== id) return { id, hashMismatch: actual };
  try {
    return { id, snapshot: file.build(id, parseUnpacked(decrypt(ctx.key, bytes), ctx.version)) };
  } catch (err) {
    return { id, error: corruptFile(ctx, id, err) };
  }
}

function corruptFile(ctx: DecodeContext, id: string, err: unknown): SnapshotFileError {
  if (!(err instanceof DecryptError || err instanceof UnpackedFormatError || err instanceof SnapshotFormatError)) throw err;
  const e = new ResticRepoError({
    code: "CorruptFile",
    repository: ctx.repository,
    file: `snapshots/${id}`,
    detail: `${corruptHint(err)}: ${err.message}`,
    cause: err,
  });
  return { id, code: e.code, message: e.message };
}

/** The error for a file whose content does not hash to its name (after one re-read). */
export function hashMismatchError(repository: string, id: string, actual: string): SnapshotFileError {
  const err = new ResticRepoError({
    code: "CorruptFile",
    repository,
    file: `snapshots/${id}`,
    detail: `content hash ${actual.slice(0, 16)}… does not match the file name; the file is damaged (restic check reports it too)`,
  });
  return { id, code: err.code, message: err.message };
}

function corruptHint(err: Error): string {
  if (err instanceof DecryptError) return "does not decrypt with the repository key (damaged, or written for another repository)";
  if (err instanceof UnpackedFormatError) return "decrypted but is not a restic unpacked file";
  return "is not a valid snapshot document";
}
