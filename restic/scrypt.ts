/**
 * scrypt (RFC 7914) with its p ROMix computations spread over several threads:
 * scrypt = PBKDF2-SHA256(P, B′, 1, dkLen), where B′ is ROMix applied to each of the p blocks of
 * B = PBKDF2-SHA256(P, S, 1, p·128·r), and the p ROMix computations are independent. The two
 * PBKDF2 steps are one HMAC iteration each (Node's); ROMix runs in WebAssembly (romix-wasm.ts),
 * in whichever threads the caller's lanes stand for (the decode pool's workers).
 * @module
 */
import { pbkdf2Sync } from "node:crypto";
import { DIAGONAL_WORD, romixModuleBytes } from "./romix-wasm.ts";
import { instantiate } from "./wasm.ts";
import type { WasmMemory } from "./wasm.ts";

export interface RomixParams {
  readonly N: number;
  readonly r: number;
}

/** Runs ROMix on each of the consecutive blocks in `blocks` (128·r bytes each); resolves with the results, in order. */
export type RomixLane = (blocks: Uint8Array, params: RomixParams) => Promise<Uint8Array>;

interface RomixExports {
  readonly memory: WasmMemory;
  romix(r: number, n: number): void;
}

let moduleBytes: Uint8Array | undefined;

/**
 * ROMix of every block in `blocks`, in this thread, one instance for all of them (its memory,
 * 128·r·(N+2) bytes, is released with it). Returns a new array.
 */
export function romixBlocks(blocks: Uint8Array, params: RomixParams): Uint8Array {
  const { N, r } = params;
  const size = 128 * r;
  if (!Number.isInteger(N) || N < 2 || (N & (N - 1)) !== 0) throw new RangeError(`scrypt N must be a power of two ≥ 2, got ${N}`);
  if (!Number.isInteger(r) || r < 1 || blocks.length % size !== 0) throw new RangeError(`scrypt blocks must be whole 128·r-byte blocks (r=${r}), got ${blocks.length} bytes`);
  moduleBytes ??= romixModuleBytes();
  const exports = instantiate(moduleBytes) as RomixExports;
  const need = size * (N + 2);
  exports.memory.grow(Math.ceil(need / 65536));
  const out = new Uint8Array(blocks.length);
  for (let at = 0; at < blocks.length; at += size) {
    const words = new Uint32Array(exports.memory.buffer, 0, size / 4);
    toDiagonal(blocks.subarray(at, at + size), words);
    exports.romix(r, N);
    fromDiagonal(words, out.subarray(at, at + size));
  }
  return out;
}

/** Little-endian words of each 64-byte block, reordered into diagonal order. */
function toDiagonal(block: Uint8Array, words: Uint32Array): void {
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  for (let k = 0; k < words.length; k += 16) {
    for (let i = 0; i < 16; i++) words[k + i] = view.getUint32(4 * (k + (DIAGONAL_WORD[i] as number)), true);
  }
}

function fromDiagonal(words: Uint32Array, block: Uint8Array): void {
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  for (let k = 0; k < words.length; k += 16) {
    for (let i = 0; i < 16; i++) view.setUint32(4 * (k + (DIAGONAL_WORD[i] as number)), words[k + i] as number, true);
  }
}

export interface ScryptInput extends RomixParams {
  readonly password: Uint8Array;
  readonly salt: Uint8Array;
  readonly p: number;
  readonly dkLen: number;
}

/**
 * scrypt with the p blocks shared out over `lanes` (consecutive runs, as even as whole blocks
 * allow); a lane that fails fails the whole derivation.
 */
export async function scryptInLanes(input: ScryptInput, lanes: readonly RomixLane[]): Promise<Uint8Array> {
  const { password, salt, N, r, p, dkLen } = input;
  if (lanes.length === 0) throw new RangeError("scrypt needs at least one lane");
  const size = 128 * r;
  const b = pbkdf2Sync(password, salt, 1, p * size, "sha256");
  const used = Math.min(lanes.length, p);
  const shares: { from: number; to: number }[] = [];
  for (let l = 0, from = 0; l < used; l++) {
    const count = Math.floor(p / used) + (l < p % used ? 1 : 0);
    shares.push({ from, to: from + count });
    from += count;
  }
  const mixed = await Promise.all(shares.map((s, l) => (lanes[l] as RomixLane)(b.subarray(s.from * size, s.to * size), { N, r })));
  shares.forEach((s, l) => b.set(mixed[l] as Uint8Array, s.from * size));
  return new Uint8Array(pbkdf2Sync(password, b, 1, dkLen, "sha256"));
}
