/**
 * WebAssembly modules of our own (built by wasm-encoder.ts), compiled once per thread per module.
 * The project's TypeScript libraries do not declare the WebAssembly global, so the little used
 * here is typed here.
 * @module
 */

interface Wasm {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: object) => { readonly exports: unknown };
  validate(bytes: Uint8Array): boolean;
}
const wasm = (globalThis as unknown as { readonly WebAssembly: Wasm }).WebAssembly;

/** The exported memory of an instance. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

/** Compiled modules by the identity of their bytes (callers keep their bytes). */
const compiled = new WeakMap<Uint8Array, object>();

/** A new instance of the module, compiled on first use. */
export function instantiate(bytes: Uint8Array): unknown {
  let module = compiled.get(bytes);
  if (module === undefined) {
    module = new wasm.Module(bytes);
    compiled.set(bytes, module);
  }
  return new wasm.Instance(module, {}).exports;
}

export function validate(bytes: Uint8Array): boolean {
  return wasm.validate(bytes);
}
