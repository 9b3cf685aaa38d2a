/**
 * A typed handle on the runtime's `WebAssembly` object, limited to what the index uses. The
 * project compiles against the ES library without DOM types, which is where TypeScript declares
 * `WebAssembly`; declaring these few members here keeps that choice and our public types intact.
 */

export interface WasmMemory {
  /** For a shared memory, a `SharedArrayBuffer` of the current size. */
  readonly buffer: SharedArrayBuffer;
  /** Adds `pages` pages of 64 KiB; answers the previous size in pages. */
  grow(pages: number): number;
}

export interface WasmMemoryDescriptor {
  readonly initial: number;
  readonly maximum: number;
  readonly shared: true;
}

interface WasmInstance {
  readonly exports: unknown;
}

interface WebAssemblyApi {
  readonly Memory: new (descriptor: WasmMemoryDescriptor) => WasmMemory;
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => WasmInstance;
}

export const webAssembly = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;
