/**
 * Poly1305 one-time MACs through the WebAssembly module of poly1305-wasm.ts, one instance per
 * thread (its memory grows to the largest message seen). Falls back to @noble/ciphers' Poly1305
 * where WebAssembly is unavailable.
 * @module
 */
import { poly1305 as noblePoly1305 } from "@noble/ciphers/_poly1305.js";
import { KEY_AT, MESSAGE_AT, TAG_AT, poly1305ModuleBytes } from "./poly1305-wasm.ts";
import { instantiate } from "./wasm.ts";
import type { WasmMemory } from "./wasm.ts";

interface Poly1305Exports {
  readonly memory: WasmMemory;
  poly1305(length: number): void;
}

/** undefined: not tried yet on this thread; null: WebAssembly unavailable here. */
let instance: Poly1305Exports | null | undefined;

function open(): Poly1305Exports | null {
  try {
    return instantiate(poly1305ModuleBytes()) as Poly1305Exports;
  } catch {
    return null;
  }
}

/** The 16-byte Poly1305 tag of `message` under the 32-byte one-time key `key` (r ‖ s; r is clamped here). */
export function poly1305(message: Uint8Array, key: Uint8Array): Uint8Array {
  if (key.length !== 32) throw new RangeError(`poly1305 key must be 32 bytes, got ${key.length}`);
  instance ??= open();
  if (instance === null) return noblePoly1305(message, key);
  const need = MESSAGE_AT + message.length;
  const have = instance.memory.buffer.byteLength;
  if (need > have) instance.memory.grow(Math.ceil((need - have) / 65536));
  const mem = new Uint8Array(instance.memory.buffer);
  mem.set(key, KEY_AT);
  mem.set(message, MESSAGE_AT);
  instance.poly1305(message.length);
  return mem.slice(TAG_AT, TAG_AT + 16);
}
