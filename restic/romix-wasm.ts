/**
 * scrypt's ROMix (RFC 7914 §5) as a WebAssembly module with 128-bit SIMD: Salsa20/8 on four
 * vectors in the diagonal word order of Colin Percival's SSE2 scrypt, so that each half-round is
 * four add/rotate/xor steps on whole vectors and a lane rotation. Memory holds X at 0 and Y at
 * R (R = 128·r bytes) and V (N blocks) from 2·R; blocks are in the diagonal order throughout
 * (scrypt.ts converts on the way in and out). Exports `memory` and `romix(r, N)`, which mixes
 * the block at 0 in place.
 *
 * Why: a restic key file's scrypt has p independent ROMix computations (`restic init` calibrates
 * p for about half a second), which Node's scrypt runs one after another on one thread. Done
 * here, they run on every core (scrypt.ts).
 * @module
 */
import type { Code, FuncDef } from "./wasm-encoder.ts";
import {
  I32, V128, add, and, brIf, call, encodeModule, get, i32, i32x4Add, i32x4Permute, i32x4Shl, i32x4ShrU,
  load32, loop, ltU, memoryCopy, mul, set, shl, sub, tee, v128Load, v128Store, vXor,
} from "./wasm-encoder.ts";

/** Word i of a 64-byte Salsa20 block in diagonal order is word (5·i mod 16) of the block. */
export const DIAGONAL_WORD = Array.from({ length: 16 }, (_, i) => (i * 5) % 16);

const BLOCKMIX = 0;
const BLOCKMIX_XOR = 1;

/** Locals of the two BlockMix functions, after their parameters. */
function blockMixLocals(first: number) {
  const x = [first, first + 1, first + 2, first + 3] as const;
  const saved = [first + 4, first + 5, first + 6, first + 7] as const;
  const t = first + 8;
  const [k, i, s, u, evenOut, oddOut] = [first + 9, first + 10, first + 11, first + 12, first + 13, first + 14];
  return { x, saved, t, k, i, s, u, evenOut, oddOut };
}
type Locals = ReturnType<typeof blockMixLocals>;

/** `out ^= rotl(a + b, bits)` on four lanes: `[out, a, b, bits]`. */
function arx(L: Locals, [out, a, b, bits]: readonly [number, number, number, number]): Code {
  return [
    ...set(L.t, i32x4Add(get(a), get(b))),
    ...set(out, vXor(get(out), vXor(i32x4Shl(get(L.t), bits), i32x4ShrU(get(L.t), 32 - bits)))),
  ];
}

/** Salsa20/8 of x0..x3 in place (four double rounds, then the feed-forward). */
function salsa8(L: Locals): Code[] {
  const [x0, x1, x2, x3] = L.x;
  const permute = (v: number, lanes: readonly [number, number, number, number]): Code => set(v, i32x4Permute(get(v), lanes));
  return [
    ...L.x.map((v, q) => set(L.saved[q] as number, get(v))),
    set(L.k, i32(4)),
    loop(
      arx(L, [x1, x0, x3, 7]), arx(L, [x2, x1, x0, 9]), arx(L, [x3, x2, x1, 13]), arx(L, [x0, x3, x2, 18]),
      permute(x1, [3, 0, 1, 2]), permute(x2, [2, 3, 0, 1]), permute(x3, [1, 2, 3, 0]),
      arx(L, [x3, x0, x1, 7]), arx(L, [x2, x3, x0, 9]), arx(L, [x1, x2, x3, 13]), arx(L, [x0, x1, x2, 18]),
      permute(x1, [1, 2, 3, 0]), permute(x2, [2, 3, 0, 1]), permute(x3, [3, 0, 1, 2]),
      brIf(0, tee(L.k, sub(get(L.k), i32(1)))),
    ),
    ...L.x.map((v, q) => set(v, i32x4Add(get(v), get(L.saved[q] as number)))),
  ];
}

/** The 64-byte block at `s` (xor the one at `u` when `two`), as vector q. */
const input = (L: Locals, two: boolean, q: number): Code =>
  two ? vXor(v128Load(get(L.s), 16 * q), v128Load(get(L.u), 16 * q)) : v128Load(get(L.s), 16 * q);

/** x ^= the next input block, Salsa20/8, store at `out`, advance the inputs. */
function mixOne(L: Locals, two: boolean, out: number): Code[] {
  return [
    ...L.x.map((v, q) => set(v, vXor(get(v), input(L, two, q)))),
    ...salsa8(L),
    ...L.x.map((v, q) => v128Store(get(out), get(v), 16 * q)),
    set(L.s, add(get(L.s), i32(64))),
    ...(two ? [set(L.u, add(get(L.u), i32(64)))] : []),
  ];
}

/**
 * BlockMix_{Salsa20/8, r}(in) into out, or of (in xor in2) when `two`: the even outputs go to
 * the first half of out and the odd ones to the second (RFC 7914 §4).
 */
function blockMix(two: boolean): FuncDef {
  const params = two ? 4 : 3;
  const [inp, in2, out, r] = two ? [0, 1, 2, 3] : [0, -1, 1, 2];
  const L = blockMixLocals(params);
  const last = sub(shl(get(r), i32(7)), i32(64));
  return {
    params: Array<typeof I32>(params).fill(I32),
    locals: [...Array<typeof V128>(9).fill(V128), ...Array<typeof I32>(6).fill(I32)],
    body: [
      set(L.s, add(get(inp), last)),
      ...(two ? [set(L.u, add(get(in2), last))] : []),
      ...L.x.map((v, q) => set(v, input(L, two, q))),
      set(L.s, get(inp)),
      ...(two ? [set(L.u, get(in2))] : []),
      set(L.evenOut, get(out)),
      set(L.oddOut, add(get(out), shl(get(r), i32(6)))),
      set(L.i, get(r)),
      loop(
        ...mixOne(L, two, L.evenOut),
        ...mixOne(L, two, L.oddOut),
        set(L.evenOut, add(get(L.evenOut), i32(64))),
        set(L.oddOut, add(get(L.oddOut), i32(64))),
        brIf(0, tee(L.i, sub(get(L.i), i32(1)))),
      ),
    ],
  };
}

/** ROMix(r, N) of the block at 0: V[0] = X, V[i+1] = BlockMix(V[i]), then N mixes with V[Integerify(X) mod N]. */
function romix(): FuncDef {
  const [r, n] = [0, 1];
  const [size, v, i, x, y, swap, j] = [2, 3, 4, 5, 6, 7, 8];
  return {
    export: "romix",
    params: [I32, I32],
    locals: Array<typeof I32>(7).fill(I32),
    body: [
      set(size, shl(get(r), i32(7))),
      set(v, shl(get(size), i32(1))),
      memoryCopy(get(v), i32(0), get(size)),
      set(i, i32(0)),
      set(x, get(v)),
      loop(
        call(BLOCKMIX, get(x), add(get(x), get(size)), get(r)),
        set(x, add(get(x), get(size))),
        brIf(0, ltU(tee(i, add(get(i), i32(1))), sub(get(n), i32(1)))),
      ),
      call(BLOCKMIX, get(x), i32(0), get(r)),
      set(x, i32(0)),
      set(y, get(size)),
      set(i, get(n)),
      loop(
        // Integerify: the first word of the last 64-byte block (word 0 stays first in diagonal order).
        set(j, and(load32(sub(add(get(x), get(size)), i32(64))), sub(get(n), i32(1)))),
        call(BLOCKMIX_XOR, get(x), add(get(v), mul(get(j), get(size))), get(y), get(r)),
        set(swap, get(x)),
        set(x, get(y)),
        set(y, get(swap)),
        brIf(0, tee(i, sub(get(i), i32(1)))),
      ),
      // N is even, so after N swaps the result is back at 0.
    ],
  };
}

/** The module's bytes: BlockMix, BlockMix of a xor, and the exported romix; one initial page. */
export function romixModuleBytes(): Uint8Array {
  return encodeModule([blockMix(false), blockMix(true), romix()], 1, "memory");
}
