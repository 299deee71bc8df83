/**
 * scrypt (RFC 7914) with its p ROMix computations spread over several threads:
 * scrypt = PBKDF2-SHA256(P, B′, 1, dkLen), where B′ is ROMix applied to each of the p blocks of
 * B = PBKDF2-SHA256(P, S, 1, p·128·r), and the p ROMix computations are independent. The two
 * PBKDF2 steps are one HMAC iteration each (Node's); ROMix runs in WebAssembly (romix-wasm.ts).
 *
 * The blocks sit in memory every thread shares (`SharedBlocks`), and each lane claims the next
 * unclaimed block, mixes it in place and counts it done, until none is left: a lane that is
 * ready early (the main thread, while a new process's decode workers still boot) mixes more
 * blocks, one that is late mixes fewer or none, and no lane waits for another to hand it work
 * (docs/webassembly.md).
 * @module
 */
import { pbkdf2Sync } from "node:crypto";
import { setImmediate as nextTurn } from "node:timers/promises";
import { DIAGONAL_WORD, romixModuleBytes } from "./romix-wasm.ts";
import { instantiate } from "./wasm.ts";
import type { WasmMemory } from "./wasm.ts";

export interface RomixParams {
  readonly N: number;
  readonly r: number;
}

/**
 * `count` blocks of 128·r bytes after a 16-byte header of two counters (blocks claimed, blocks
 * mixed), in a SharedArrayBuffer that a worker receives without a copy.
 */
export interface SharedBlocks {
  readonly buffer: SharedArrayBuffer;
  readonly count: number;
  readonly params: RomixParams;
}

/** Takes part in mixing `shared` (see mixClaimed); resolves or rejects when it stops. */
export type RomixLane = (shared: SharedBlocks) => Promise<unknown>;

const HEADER_BYTES = 16;
const CLAIMED = 0;
const MIXED = 1;

interface RomixExports {
  readonly memory: WasmMemory;
  romix(r: number, n: number): void;
}

let moduleBytes: Uint8Array | undefined;

function checkParams(params: RomixParams, bytes: number): void {
  const { N, r } = params;
  if (!Number.isInteger(N) || N < 2 || (N & (N - 1)) !== 0) throw new RangeError(`scrypt N must be a power of two ≥ 2, got ${N}`);
  if (!Number.isInteger(r) || r < 1 || bytes % (128 * r) !== 0) throw new RangeError(`scrypt blocks must be whole 128·r-byte blocks (r=${r}), got ${bytes} bytes`);
}

/** A copy of `blocks` (whole 128·r-byte blocks) in shared memory, none claimed yet. */
export function shareBlocks(blocks: Uint8Array, params: RomixParams): SharedBlocks {
  checkParams(params, blocks.length);
  const buffer = new SharedArrayBuffer(HEADER_BYTES + blocks.length);
  new Uint8Array(buffer, HEADER_BYTES).set(blocks);
  return { buffer, count: blocks.length / (128 * params.r), params };
}

/** The blocks of `shared`, mixed once every lane is done. */
export function blocksOf(shared: SharedBlocks): Uint8Array {
  return new Uint8Array(shared.buffer, HEADER_BYTES);
}

/** The header's two counters (claimed, mixed), shared by every thread that holds `shared`. */
function countersOf(shared: SharedBlocks): Int32Array<SharedArrayBuffer> {
  return new Int32Array(shared.buffer, 0, 2);
}

/** How many blocks of `shared` are mixed. */
export function mixedCount(shared: SharedBlocks): number {
  return Atomics.load(countersOf(shared), MIXED);
}

/** ROMix of one 128·r-byte block, in place, in this thread. */
type Mixer = (block: Uint8Array) => void;

/**
 * A Mixer whose WebAssembly instance (its memory, 128·r·(N+2) bytes, is released with it) is made
 * on its first block and serves every later one.
 */
function mixer(params: RomixParams): Mixer {
  const { N, r } = params;
  const size = 128 * r;
  let exports: RomixExports | undefined;
  return (block) => {
    if (exports === undefined) {
      moduleBytes ??= romixModuleBytes();
      exports = instantiate(moduleBytes) as RomixExports;
      exports.memory.grow(Math.ceil((size * (N + 2)) / 65536));
    }
    const words = new Uint32Array(exports.memory.buffer, 0, size / 4);
    toDiagonal(block, words);
    exports.romix(r, N);
    fromDiagonal(words, block);
  };
}

/**
 * In this thread: claims the next unclaimed block of `shared`, mixes it in place and counts it,
 * until none is left or `limit` are mixed; returns how many it mixed. `mix` may be kept across
 * calls, so that one WebAssembly instance serves them all.
 */
export function mixClaimed(shared: SharedBlocks, limit = Infinity, mix: Mixer = mixer(shared.params)): number {
  const size = 128 * shared.params.r;
  checkParams(shared.params, shared.buffer.byteLength - HEADER_BYTES);
  const counters = countersOf(shared);
  let mixed = 0;
  while (mixed < limit) {
    const i = Atomics.add(counters, CLAIMED, 1);
    if (i >= shared.count) break;
    mix(new Uint8Array(shared.buffer, HEADER_BYTES + i * size, size));
    Atomics.add(counters, MIXED, 1);
    Atomics.notify(counters, MIXED);
    mixed++;
  }
  return mixed;
}

/**
 * This thread as a lane that yields between blocks: one block per turn of the event loop, so
 * that the I/O and timers of the rest of the process are served between them; one WebAssembly
 * instance for all of them.
 */
export async function eventLoopLane(shared: SharedBlocks): Promise<void> {
  const mix = mixer(shared.params);
  do await nextTurn();
  while (mixClaimed(shared, 1, mix) > 0);
}

/** Resolves when every block of `shared` is mixed. */
async function allMixed(shared: SharedBlocks): Promise<void> {
  const counters = countersOf(shared);
  for (;;) {
    const mixed = Atomics.load(counters, MIXED);
    if (mixed >= shared.count) return;
    const wait = Atomics.waitAsync(counters, MIXED, mixed);
    if (wait.async) await wait.value;
  }
}

/** No lane claims another block, and whoever waits for them stops waiting. */
function abandon(shared: SharedBlocks): void {
  const counters = countersOf(shared);
  Atomics.store(counters, CLAIMED, shared.count);
  Atomics.store(counters, MIXED, shared.count);
  Atomics.notify(counters, MIXED);
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
 * scrypt with the p blocks claimed one at a time by `lanes`. It finishes when every block is
 * mixed, without waiting for lanes that have not answered yet (a worker still booting); a lane
 * that fails before then fails the whole derivation (no lane claims another block), and so do
 * lanes that all stop with blocks unmixed.
 */
export async function scryptInLanes(input: ScryptInput, lanes: readonly RomixLane[]): Promise<Uint8Array> {
  const { password, salt, N, r, p, dkLen } = input;
  if (lanes.length === 0) throw new RangeError("scrypt needs at least one lane");
  const shared = shareBlocks(pbkdf2Sync(password, salt, 1, p * 128 * r, "sha256"), { N, r });
  const stopped = Promise.all(lanes.map((lane) => lane(shared))).then(() => {
    if (mixedCount(shared) < shared.count) throw new Error(`scrypt lanes stopped with ${shared.count - mixedCount(shared)} of ${shared.count} blocks unmixed`);
  });
  try {
    await Promise.race([allMixed(shared), stopped]);
  } catch (err) {
    abandon(shared);
    throw err;
  }
  void stopped.catch(() => undefined); // a late lane's failure no longer matters
  return new Uint8Array(pbkdf2Sync(password, blocksOf(shared), 1, dkLen, "sha256"));
}
