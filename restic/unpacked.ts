/**
 * The "unpacked" file format after decryption: plain JSON in v1; in v2 either plain JSON
 * (first byte `{` or `[`, written before an upgrade) or 0x02 followed by one zstd frame.
 *
 * Decompression reuses one zstd context per thread. `zstdDecompressSync` builds and frees a
 * whole context (and a stream object) on every call, which costs about ten times decompressing
 * a 400-byte snapshot frame (about 12 µs vs 1 µs). Node has no public call that reuses a
 * context, so the fast path drives the native handle of one `ZstdDecompress` stream with the
 * same `writeSync` call Node's own sync functions make. It is checked once per thread (API
 * present, a frame decodes, a truncated frame is reported), and only a clean result is taken
 * from it: an error, input left over or a full output buffer resets the context and decodes
 * the frame again with `zstdDecompressSync`, whose result and errors are the reference.
 * @module
 */
import { constants, createZstdDecompress, zstdCompressSync, zstdDecompressSync } from "node:zlib";

export type RepoVersion = 1 | 2;

/** Largest decompressed unpacked file accepted (snapshot, lock and config files are small). */
export const MAX_UNPACKED_BYTES = 64 * 1024 * 1024;

const JSON_OBJECT = 0x7b;
const JSON_ARRAY = 0x5b;
const ZSTD_MARKER = 0x02;
/** Output room of the reused context; a larger file takes the zstdDecompressSync path. */
const FAST_OUTPUT_BYTES = 256 * 1024;

export class UnpackedFormatError extends Error {
  override readonly name = "UnpackedFormatError";
}

/** The zstd frame of a v2 file, or undefined when the plaintext is the JSON itself. Throws UnpackedFormatError. */
function zstdFrame(plaintext: Uint8Array, version: RepoVersion): Uint8Array | undefined {
  if (plaintext.length === 0) throw new UnpackedFormatError("decrypted file is empty, JSON or a 0x02-prefixed zstd frame expected");
  const first = plaintext[0];
  if (version === 1 || first === JSON_OBJECT || first === JSON_ARRAY) return undefined;
  if (first !== ZSTD_MARKER) {
    throw new UnpackedFormatError(
      `decrypted file starts with byte 0x${first?.toString(16).padStart(2, "0")}, expected "{", "[" or 0x02 (zstd)`,
    );
  }
  return plaintext.subarray(1);
}

function slowDecompress(frame: Uint8Array): Buffer {
  try {
    return zstdDecompressSync(frame, { maxOutputLength: MAX_UNPACKED_BYTES });
  } catch (err) {
    throw new UnpackedFormatError(`zstd frame does not decompress: ${(err as Error).message}`, { cause: err });
  }
}

/** Returns the JSON bytes of a decrypted unpacked file (an owned copy). Throws UnpackedFormatError. */
export function decodeUnpacked(plaintext: Uint8Array, version: RepoVersion): Uint8Array {
  const frame = zstdFrame(plaintext, version);
  if (frame === undefined) return plaintext;
  const fast = fastDecompress(frame);
  return fast === undefined ? slowDecompress(frame) : new Uint8Array(fast);
}

/** decodeUnpacked + parseUnpackedJson without copying the decompressed bytes. Throws UnpackedFormatError. */
export function parseUnpacked(plaintext: Uint8Array, version: RepoVersion): unknown {
  const frame = zstdFrame(plaintext, version);
  const json = frame === undefined ? plaintext : (fastDecompress(frame) ?? slowDecompress(frame));
  return parseUnpackedJson(json);
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

/** The parts of a ZstdDecompress stream's native handle the fast path uses (Node internals). */
interface NativeZstd {
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
  reset(): void;
  onerror: (message: string, errno: number) => void;
}

interface Reusable {
  /** Kept so the handle's owner stays reachable. */
  readonly stream: object;
  readonly handle: NativeZstd;
  /** Written by writeSync: [output room left, input left]. */
  readonly state: Uint32Array;
  readonly out: Buffer;
  failed: boolean;
}

/** undefined: not tried yet on this thread; null: the fast path is unavailable. */
let reusable: Reusable | null | undefined;

/** Whether this thread decodes zstd frames with a reused context (false: every frame takes zstdDecompressSync). */
export function reusesZstdContext(): boolean {
  reusable ??= openReusable();
  return reusable !== null;
}

/** Decompresses one frame with the thread's reused context; undefined when it cannot do so cleanly. */
function fastDecompress(frame: Uint8Array): Buffer | undefined {
  reusable ??= openReusable();
  if (reusable === null || frame.length === 0) return undefined;
  try {
    return runFrame(reusable, frame);
  } catch {
    reusable = null;
    return undefined;
  }
}

function runFrame(z: Reusable, frame: Uint8Array): Buffer | undefined {
  z.failed = false;
  z.handle.writeSync(constants.ZSTD_e_end, frame, 0, frame.length, z.out, 0, z.out.length);
  const [room = 0, left = 1] = z.state;
  if (z.failed || left !== 0 || room === 0) {
    z.handle.reset();
    return undefined;
  }
  return z.out.subarray(0, z.out.length - room);
}

function openReusable(): Reusable | null {
  try {
    const stream = createZstdDecompress() as unknown as { _handle?: Partial<NativeZstd>; _writeState?: unknown };
    const handle = stream._handle;
    const state = stream._writeState;
    if (typeof handle?.writeSync !== "function" || typeof handle.reset !== "function" || !(state instanceof Uint32Array) || state.length !== 2) {
      return null;
    }
    const z: Reusable = { stream, handle: handle as NativeZstd, state, out: Buffer.allocUnsafe(FAST_OUTPUT_BYTES), failed: false };
    z.handle.onerror = () => {
      z.failed = true;
    };
    return worksAsExpected(z) ? z : null;
  } catch {
    return null;
  }
}

const PROBE = Buffer.from('{"probe":"restic unpacked zstd fast path","n":[1,2,3,4,5,6,7,8]}', "utf8");

/** A frame decodes, a truncated one is reported (not returned short), and the context recovers. */
function worksAsExpected(z: Reusable): boolean {
  const frame = zstdCompressSync(PROBE);
  const decodes = (): boolean => runFrame(z, frame)?.equals(PROBE) === true;
  return decodes() && decodes() && runFrame(z, frame.subarray(0, frame.length - 4)) === undefined && decodes();
}
