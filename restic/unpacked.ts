/**
 * The "unpacked" file format after decryption: plain JSON in v1; in v2 either plain JSON
 * (first byte `{` or `[`, written before an upgrade) or 0x02 followed by one zstd frame.
 * @module
 */
import { zstdCompressSync, zstdDecompressSync } from "node:zlib";

export type RepoVersion = 1 | 2;

/** Largest decompressed unpacked file accepted (snapshot, lock and config files are small). */
export const MAX_UNPACKED_BYTES = 64 * 1024 * 1024;

const JSON_OBJECT = 0x7b;
const JSON_ARRAY = 0x5b;
const ZSTD_MARKER = 0x02;

export class UnpackedFormatError extends Error {
  override readonly name = "UnpackedFormatError";
}

/** Returns the JSON bytes of a decrypted unpacked file. Throws UnpackedFormatError. */
export function decodeUnpacked(plaintext: Uint8Array, version: RepoVersion): Uint8Array {
  if (plaintext.length === 0) throw new UnpackedFormatError("decrypted file is empty, JSON or a 0x02-prefixed zstd frame expected");
  const first = plaintext[0];
  if (version === 1 || first === JSON_OBJECT || first === JSON_ARRAY) return plaintext;
  if (first !== ZSTD_MARKER) {
    throw new UnpackedFormatError(
      `decrypted file starts with byte 0x${first?.toString(16).padStart(2, "0")}, expected "{", "[" or 0x02 (zstd)`,
    );
  }
  try {
    return zstdDecompressSync(plaintext.subarray(1), { maxOutputLength: MAX_UNPACKED_BYTES });
  } catch (err) {
    throw new UnpackedFormatError(`zstd frame does not decompress: ${(err as Error).message}`, { cause: err });
  }
}

/** Parses the JSON of a decoded unpacked file. Throws UnpackedFormatError. */
export function parseUnpackedJson(json: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(json.buffer, json.byteOffset, json.byteLength).toString("utf8"));
  } catch (err) {
    throw new UnpackedFormatError(`decrypted file is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** Encodes as restic v2 does (0x02 + zstd frame, no content size for small inputs); v1 keeps raw JSON. */
export function encodeUnpacked(json: Uint8Array, version: RepoVersion): Uint8Array {
  if (version === 1) return json;
  const frame = zstdCompressSync(json);
  const out = new Uint8Array(frame.length + 1);
  out[0] = ZSTD_MARKER;
  out.set(frame, 1);
  return out;
}
