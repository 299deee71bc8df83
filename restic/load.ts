/**
 * Loading one snapshot file: hash check, MAC check, decryption, decompression, JSON shape.
 * Every way the file itself can be bad becomes a CorruptFile error naming the file.
 * @module
 */
import { createHash } from "node:crypto";
import type { Backend } from "./backend.ts";
import type { CryptoKey } from "./crypto.ts";
import { DecryptError, decrypt } from "./crypto.ts";
import type { ResticErrorCode } from "./errors.ts";
import { BackendNotFoundError, ResticRepoError } from "./errors.ts";
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

export interface LoadContext {
  readonly backend: Backend;
  readonly key: CryptoKey;
  readonly version: RepoVersion;
}

/** `undefined` when the file vanished between LIST and GET (a concurrent forget). */
export type LoadResult = { readonly snapshot: ResticSnapshot } | { readonly error: SnapshotFileError } | undefined;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Loads and checks `snapshots/<id>`. Storage failures (unreachable, denied) are thrown. */
export async function loadSnapshotFile(ctx: LoadContext, id: string): Promise<LoadResult> {
  const file = `snapshots/${id}`;
  try {
    const bytes = await readVerified(ctx.backend, file, id);
    return { snapshot: decodeSnapshot(ctx, id, bytes) };
  } catch (err) {
    if (err instanceof BackendNotFoundError) return undefined;
    if (err instanceof ResticRepoError && err.code === "CorruptFile") {
      return { error: { id, code: err.code, message: err.message } };
    }
    throw err;
  }
}

/** Reads a content-addressed file and checks SHA-256(bytes) == name, re-reading once on a mismatch as restic does. */
export async function readVerified(backend: Backend, file: string, id: string): Promise<Uint8Array> {
  let bytes = await backend.read(file);
  if (sha256Hex(bytes) === id) return bytes;
  bytes = await backend.read(file);
  const actual = sha256Hex(bytes);
  if (actual === id) return bytes;
  throw new ResticRepoError({
    code: "CorruptFile",
    repository: backend.describe(),
    file,
    detail: `content hash ${actual.slice(0, 16)}… does not match the file name; the file is damaged (restic check reports it too)`,
  });
}

/** Decrypts, decompresses and parses the bytes of a snapshot file whose hash was checked. */
export function decodeSnapshot(ctx: LoadContext, id: string, bytes: Uint8Array): ResticSnapshot {
  try {
    const json = decodeUnpacked(decrypt(ctx.key, bytes), ctx.version);
    return parseSnapshot(id, parseUnpackedJson(json));
  } catch (err) {
    if (err instanceof DecryptError || err instanceof UnpackedFormatError || err instanceof SnapshotFormatError) {
      throw new ResticRepoError({
        code: "CorruptFile",
        repository: ctx.backend.describe(),
        file: `snapshots/${id}`,
        detail: `${corruptHint(err)}: ${err.message}`,
        cause: err,
      });
    }
    throw err;
  }
}

function corruptHint(err: Error): string {
  if (err instanceof DecryptError) return "does not decrypt with the repository key (damaged, or written for another repository)";
  if (err instanceof UnpackedFormatError) return "decrypted but is not a restic unpacked file";
  return "is not a valid snapshot document";
}
