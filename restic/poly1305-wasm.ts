/**
 * Poly1305 (RFC 8439 §2.5) as a small WebAssembly module: poly1305-donna's 26-bit limbs with
 * 64-bit products. restic's MAC is Poly1305 over every file's ciphertext; in WebAssembly it runs
 * at full speed from the first file a fresh decode worker reads (JavaScript's 16-bit-limb
 * version needs thousands of files before it is compiled well).
 *
 * Memory: the 32-byte one-time key (r ‖ s) at 0, the tag written at 32, a scratch block at 64,
 * the message from 128. Exports `memory` and `poly1305(length)`.
 * @module
 */
import type { Code, FuncDef } from "./wasm-encoder.ts";
import {
  I32, I64, add, add64, and, and64, block, brIf, encodeModule, geU, get, i32, i64, load32u64, loop, ltU,
  memoryCopy, mul64, ne, or64, set, shl64, shrU64, store32of64, store64, store8, sub64, when, xor64,
} from "./wasm-encoder.ts";

export const KEY_AT = 0;
export const TAG_AT = 32;
export const MESSAGE_AT = 128;
const SCRATCH_AT = 64;
const MASK26 = 0x3ffffff;

// Locals: the parameter, then i32s, then i64s.
const LEN = 0;
const [M, END] = [1, 2];
const [R0, R1, R2, R3, R4, S1, S2, S3, S4] = [3, 4, 5, 6, 7, 8, 9, 10, 11];
const H = [12, 13, 14, 15, 16] as const;
const D = [17, 18, 19, 20, 21] as const;
const [C, F, MASK] = [22, 23, 24];
const G = [25, 26, 27, 28, 29] as const;
const [H0, H1, H2, H3, H4] = H;

/** Little-endian word at `ptr + offset`, shifted right and masked to 26 bits. */
const limb = (ptr: Code, offset: number, shift: number, mask = MASK26): Code => and64(shrU64(load32u64(ptr, offset), i64(shift)), i64(mask));

/** h += the 16-byte block at `ptr` (plus 2^128 when `full`); h *= r (mod 2^130 - 5, partly reduced). */
function absorb(ptr: Code, full: boolean): Code[] {
  const addTo = (h: number, v: Code): Code => set(h, add64(get(h), v));
  const products: readonly (readonly number[])[] = [
    [R0, S4, S3, S2, S1],
    [R1, R0, S4, S3, S2],
    [R2, R1, R0, S4, S3],
    [R3, R2, R1, R0, S4],
    [R4, R3, R2, R1, R0],
  ];
  const d = (i: number): Code =>
    (products[i] as readonly number[]).map((r, j) => mul64(get(H[j] as number), get(r))).reduce((sum, term) => add64(sum, term));
  const carry = (i: number): Code[] => [
    set(C, shrU64(get(D[i] as number), i64(26))),
    set(H[i] as number, and64(get(D[i] as number), i64(MASK26))),
    ...(i < 4 ? [set(D[i + 1] as number, add64(get(D[i + 1] as number), get(C)))] : []),
  ];
  const top = shrU64(load32u64(ptr, 12), i64(8));
  return [
    addTo(H0, limb(ptr, 0, 0)),
    addTo(H1, limb(ptr, 3, 2)),
    addTo(H2, limb(ptr, 6, 4)),
    addTo(H3, limb(ptr, 9, 6)),
    addTo(H4, full ? or64(top, i64(1 << 24)) : top),
    ...D.map((di, i) => set(di, d(i))),
    ...[0, 1, 2, 3, 4].flatMap(carry),
    set(H0, add64(get(H0), mul64(get(C), i64(5)))),
    set(C, shrU64(get(H0), i64(26))),
    set(H0, and64(get(H0), i64(MASK26))),
    set(H1, add64(get(H1), get(C))),
  ];
}

/** Full carry of h, then h mod 2^130 - 5 (h, or h + 5 - 2^130 when that is not negative). */
function reduce(): Code[] {
  const chain = (from: number): Code[] =>
    [from, from + 1, from + 2, from + 3].flatMap((i) => {
      const [hi, hn] = [H[i % 5] as number, H[(i + 1) % 5] as number];
      return [set(C, shrU64(get(hi), i64(26))), set(hi, and64(get(hi), i64(MASK26))), set(hn, add64(get(hn), i % 5 === 4 ? mul64(get(C), i64(5)) : get(C)))];
    });
  const gs = G.flatMap((g, i) => {
    const plus = i === 0 ? add64(get(H0), i64(5)) : add64(get(H[i] as number), get(C));
    if (i === 4) return [set(g, sub64(plus, i64(1 << 26)))];
    return [set(g, plus), set(C, shrU64(get(g), i64(26))), set(g, and64(get(g), i64(MASK26)))];
  });
  return [
    ...chain(1),
    set(C, shrU64(get(H0), i64(26))),
    set(H0, and64(get(H0), i64(MASK26))),
    set(H1, add64(get(H1), get(C))),
    ...gs,
    // all ones when g is not negative (take g), zero when it is (keep h)
    set(MASK, sub64(shrU64(get(G[4]), i64(63)), i64(1))),
    ...H.map((h, i) => set(h, or64(and64(get(h), xor64(get(MASK), i64(-1))), and64(get(G[i] as number), get(MASK))))),
  ];
}

/** tag = (h as 128 bits) + s, little-endian, at TAG_AT. */
function finish(): Code[] {
  const word = (i: number): Code => {
    const lo = shrU64(get(H[i] as number), i64(6 * i));
    return and64(or64(lo, shl64(get(H[i + 1] as number), i64(26 - 6 * i))), i64(0xffffffff));
  };
  return [0, 1, 2, 3].flatMap((i) => [
    set(F, add64(add64(word(i), load32u64(i32(KEY_AT), 16 + 4 * i)), i === 0 ? i64(0) : shrU64(get(F), i64(32)))),
    store32of64(i32(TAG_AT), get(F), 4 * i),
  ]);
}

function poly1305(): FuncDef {
  return {
    export: "poly1305",
    params: [I32],
    locals: [I32, I32, ...Array<typeof I64>(27).fill(I64)],
    body: [
      set(R0, limb(i32(KEY_AT), 0, 0)),
      set(R1, limb(i32(KEY_AT), 3, 2, 0x3ffff03)),
      set(R2, limb(i32(KEY_AT), 6, 4, 0x3ffc0ff)),
      set(R3, limb(i32(KEY_AT), 9, 6, 0x3f03fff)),
      set(R4, limb(i32(KEY_AT), 12, 8, 0x00fffff)),
      ...[S1, S2, S3, S4].map((s, i) => set(s, mul64(get([R1, R2, R3, R4][i] as number), i64(5)))),
      ...H.map((h) => set(h, i64(0))),
      set(M, i32(MESSAGE_AT)),
      set(END, add(i32(MESSAGE_AT), and(get(LEN), i32(-16)))),
      block(brIf(0, geU(get(M), get(END))), loop(...absorb(get(M), true), set(M, add(get(M), i32(16))), brIf(0, ltU(get(M), get(END))))),
      when(
        ne(and(get(LEN), i32(15)), i32(0)),
        store64(i32(SCRATCH_AT), i64(0)),
        store64(i32(SCRATCH_AT), i64(0), 8),
        memoryCopy(i32(SCRATCH_AT), get(M), and(get(LEN), i32(15))),
        store8(add(i32(SCRATCH_AT), and(get(LEN), i32(15))), i32(1)),
        ...absorb(i32(SCRATCH_AT), false),
      ),
      ...reduce(),
      ...finish(),
    ],
  };
}

/** The module's bytes: one exported memory of one page and `poly1305(length)`. */
export function poly1305ModuleBytes(): Uint8Array {
  return encodeModule([poly1305()], 1, "memory");
}
