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

const compiled = new WeakMap<object, object>();

/** A new instance of the module (compiled on first use, by the identity of `key`, default the bytes). */
export function instantiate(bytes: Uint8Array, key: object = bytes): unknown {
  let module = compiled.get(key);
  if (module === undefined) {
    module = new wasm.Module(bytes);
    compiled.set(key, module);
  }
  return new wasm.Instance(module, {}).exports;
}

export function validate(bytes: Uint8Array): boolean {
  return wasm.validate(bytes);
}
