/**
 * A typed handle on the runtime's `WebAssembly` object, limited to what the project's kernels
 * use (hashing's own-memory modules, the index's shared-memory modules). The project compiles
 * against the ES library without DOM types, which is where TypeScript declares `WebAssembly`;
 * declaring these few members here keeps that choice and our public types intact.
 */

export const WASM_PAGE_BYTES = 65536;

/** A module's own (unshared) memory, as its `memory` export. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  /** Adds `pages` pages of 64 KiB; answers the previous size in pages. */
  grow(pages: number): number;
}

/** A shared memory, created here and imported by every thread's instance. */
export interface SharedWasmMemory {
  /** A `SharedArrayBuffer` of the current size. */
  readonly buffer: SharedArrayBuffer;
  grow(pages: number): number;
}

export interface SharedMemoryDescriptor {
  readonly initial: number;
  readonly maximum: number;
  readonly shared: true;
}

type Imports = Record<string, Record<string, unknown>>;

interface WebAssemblyApi {
  readonly Memory: new (descriptor: SharedMemoryDescriptor) => SharedWasmMemory;
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports?: Imports) => { readonly exports: unknown };
}

export const webAssembly = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

/**
 * Compiles the assembled bytes once, on first use; each call of the answer makes a fresh
 * instance (with its own memory, or over the imported one).
 */
export function compileModule<Exports>(assemble: () => Uint8Array): (imports?: Imports) => Exports {
  let compiled: object | undefined;
  return (imports) => {
    compiled ??= new webAssembly.Module(assemble());
    return new webAssembly.Instance(compiled, imports).exports as Exports;
  };
}

/** Grows `memory` to at least `bytes`. */
export function reserveMemory(memory: WasmMemory | SharedWasmMemory, bytes: number): void {
  const missing = bytes - memory.buffer.byteLength;
  if (missing > 0) memory.grow(Math.ceil(missing / WASM_PAGE_BYTES));
}
