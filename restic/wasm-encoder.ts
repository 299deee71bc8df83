/**
 * A minimal WebAssembly binary encoder: just the instructions the project's two small modules
 * need (scrypt's ROMix, romix-wasm.ts; Poly1305, poly1305-wasm.ts), written in the folded form
 * of the text format (`set(x, add(get(a), get(b)))`), so that each program reads like its `.wat`
 * and no compiled binary is kept in the repository. Each helper returns the bytes of its
 * operands followed by its own opcode (WebAssembly core spec 2.0, §5).
 * @module
 */

export type Code = readonly number[];

export const I32 = 0x7f;
export const I64 = 0x7e;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof I64 | typeof V128;

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (32- and 64-bit values). */
export function sleb(value: number | bigint): number[] {
  let n = BigInt(value);
  const out: number[] = [];
  for (;;) {
    const byte = Number(n & 0x7fn);
    n >>= 7n;
    const done = (n === 0n && (byte & 0x40) === 0) || (n === -1n && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

const cat = (...parts: Code[]): number[] => parts.flat();

// Variables and constants.
export const get = (local: number): Code => [0x20, ...uleb(local)];
export const set = (local: number, value: Code): Code => cat(value, [0x21, ...uleb(local)]);
export const tee = (local: number, value: Code): Code => cat(value, [0x22, ...uleb(local)]);
export const i32 = (n: number): Code => [0x41, ...sleb(n)];

/** A binary operator: both operands, then the opcode (i32 and i64 alike). */
const binary = (opcode: number) => (a: Code, b: Code): Code => cat(a, b, [opcode]);
/** A load: the address, then the opcode and its memarg (log2 alignment, offset). */
const loadOp = (opcode: number, align: number) => (addr: Code, offset = 0): Code => cat(addr, [opcode, align, ...uleb(offset)]);
/** A store: the address and the value, then the opcode and its memarg. */
const storeOp = (opcode: number, align: number) => (addr: Code, value: Code, offset = 0): Code => cat(addr, value, [opcode, align, ...uleb(offset)]);

// i32.
export const add = binary(0x6a);
export const sub = binary(0x6b);
export const mul = binary(0x6c);
export const and = binary(0x71);
export const shl = binary(0x74);
export const ltU = binary(0x49);
export const geU = binary(0x4f);
export const ne = binary(0x47);
/** `i32.load` (4-byte aligned). */
export const load32 = loadOp(0x28, 2);
export const store8 = storeOp(0x3a, 0);

// i64.
export const i64 = (n: number | bigint): Code => [0x42, ...sleb(n)];
export const add64 = binary(0x7c);
export const sub64 = binary(0x7d);
export const mul64 = binary(0x7e);
export const and64 = binary(0x83);
export const or64 = binary(0x84);
export const xor64 = binary(0x85);
export const shl64 = binary(0x86);
export const shrU64 = binary(0x88);
/** `i64.load32_u`: four bytes, little-endian, zero-extended (any alignment). */
export const load32u64 = loadOp(0x35, 0);
/** `i64.store32`: the low four bytes, little-endian. */
export const store32of64 = storeOp(0x3e, 0);
export const store64 = storeOp(0x37, 0);

// Control and memory.
/** `loop … end`: `brIf(0, …)` inside it jumps back to its start. */
export const loop = (...body: Code[]): Code => cat([0x03, 0x40], ...body, [0x0b]);
export const brIf = (depth: number, cond: Code): Code => cat(cond, [0x0d, ...uleb(depth)]);
/** `block … end`: `brIf(0, …)` inside it jumps past its end. */
export const block = (...body: Code[]): Code => cat([0x02, 0x40], ...body, [0x0b]);
/** `if … end` (no else). */
export const when = (cond: Code, ...body: Code[]): Code => cat(cond, [0x04, 0x40], ...body, [0x0b]);
export const call = (fn: number, ...args: Code[]): Code => cat(...args, [0x10, ...uleb(fn)]);
export const memoryCopy = (dst: Code, src: Code, len: Code): Code => cat(dst, src, len, [0xfc, ...uleb(10), 0, 0]);

// 128-bit SIMD (prefix 0xfd).
const simd = (opcode: number): number[] => [0xfd, ...uleb(opcode)];
export const v128Load = (addr: Code, offset = 0): Code => cat(addr, simd(0), [4, ...uleb(offset)]);
export const v128Store = (addr: Code, value: Code, offset = 0): Code => cat(addr, value, simd(11), [4, ...uleb(offset)]);
export const vXor = (a: Code, b: Code): Code => cat(a, b, simd(81));
export const i32x4Add = (a: Code, b: Code): Code => cat(a, b, simd(174));
export const i32x4Shl = (a: Code, bits: number): Code => cat(a, i32(bits), simd(171));
export const i32x4ShrU = (a: Code, bits: number): Code => cat(a, i32(bits), simd(173));
/** Lane i of the result is lane `lanes[i]` of `a` (i32x4 lanes, through `i8x16.shuffle`). */
export const i32x4Permute = (a: Code, lanes: readonly [number, number, number, number]): Code =>
  cat(a, a, simd(13), lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]));

export interface FuncDef {
  readonly params: readonly ValType[];
  /** Locals after the parameters (their indices continue the parameters'). */
  readonly locals: readonly ValType[];
  readonly body: readonly Code[];
  /** Exported under this name when set. */
  readonly export?: string;
}

const vec = (items: readonly Code[]): number[] => cat(uleb(items.length), ...items);
const section = (id: number, content: Code): number[] => [id, ...uleb(content.length), ...content];
const name = (s: string): number[] => vec([...Buffer.from(s, "utf8")].map((b) => [b]));

function localsOf(types: readonly ValType[]): number[] {
  const runs: Code[] = [];
  for (let i = 0; i < types.length; ) {
    let j = i;
    while (j < types.length && types[j] === types[i]) j++;
    runs.push([...uleb(j - i), types[i] as number]);
    i = j;
  }
  return vec(runs);
}

/**
 * A module of functions with no results (each its own type), one exported memory of
 * `memoryPages` initial 64 KiB pages, and the named exports.
 */
export function encodeModule(funcs: readonly FuncDef[], memoryPages: number, memoryExport: string): Uint8Array {
  const types = funcs.map((f) => cat([0x60], vec(f.params.map((t) => [t])), [0]));
  const exports: Code[] = [cat(name(memoryExport), [0x02, 0])];
  funcs.forEach((f, i) => {
    if (f.export !== undefined) exports.push(cat(name(f.export), [0x00], uleb(i)));
  });
  const bodies = funcs.map((f) => {
    const code = cat(localsOf(f.locals), ...f.body, [0x0b]);
    return cat(uleb(code.length), code);
  });
  return Uint8Array.from(
    cat(
      [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
      section(1, vec(types)),
      section(3, vec(funcs.map((_, i) => uleb(i)))),
      section(5, vec([[0x00, ...uleb(memoryPages)]])),
      section(7, vec(exports)),
      section(10, vec(bodies)),
    ),
  );
}
