/**
 * Turning one snapshot file's bytes into a snapshot: hash check, MAC check, decryption,
 * decompression, JSON shape. Pure (no I/O), so it runs inline or in a decode worker. Every way
 * the file itself can be bad becomes a CorruptFile error naming the repository and the file.
 * @module
 */
import { createHash } from "node:crypto";
import type { CryptoKey } from "./crypto.ts";
import { DecryptError, decrypt } from "./crypto.ts";
import type { ResticErrorCode } from "./errors.ts";
import { ResticRepoError } from "./errors.ts";
import type { ResticSnapshot } from "./snapshot.ts";
import { SnapshotFormatError, parseSnapshot } from "./snapshot.ts";
import type { RepoVersion } from "./unpacked.ts";
import { UnpackedFormatError, decodeUnpacked, parseUnpackedJson } from "./unpacked.ts";

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
  | { readonly id: string; readonly snapshot: ResticSnapshot }
  | { readonly id: string; readonly error: SnapshotFileError }
  | { readonly id: string; readonly hashMismatch: string };

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Checks SHA-256(bytes) == id, then decodes; never throws for a bad file. */
export function decodeSnapshotFile(ctx: DecodeContext, id: string, bytes: Uint8Array): DecodeOutcome {
  return decodeSnapshotFiles(ctx, [{ id, bytes }])[0] as DecodeOutcome;
}

/** decodeSnapshotFile for many files; outcome i is for file i. */
export function decodeSnapshotFiles(ctx: DecodeContext, files: readonly { id: string; bytes: Uint8Array }[]): DecodeOutcome[] {
  return files.map(({ id, bytes }) => {
    const actual = sha256Hex(bytes);
    if (actual !== id) return { id, hashMismatch: actual };
    try {
      const json = decodeUnpacked(decrypt(ctx.key, bytes), ctx.version);
      return { id, snapshot: parseSnapshot(id, parseUnpackedJson(json)) };
    } catch (err) {
      return { id, error: corruptFile(ctx, id, err) };
    }
  });
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
