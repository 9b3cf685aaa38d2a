// The one WebAssembly assembler: LEB128 as the binary format requires, and both memory modes
// (own exported memory; imported shared memory) producing modules the runtime accepts and runs.
import { describe, expect, it } from 'vitest';
import { assembleModule, FunctionAssembler, I32, signedLeb, unsignedLeb } from '../../src/runtime/wasm/wasm-assembler.js';
import { compileModule, reserveMemory, WASM_PAGE_BYTES, webAssembly, type WasmMemory } from '../../src/runtime/wasm/webassembly-api.js';

/** sum(from, count) → the sum of `count` u32 values at `from`, written as a loopUntil over a pointer. */
function sumFunction(): FunctionAssembler {
  const f = new FunctionAssembler('sum', [I32, I32], [I32]);
  const [end, total] = [f.local(I32), f.local(I32)];
  f.get(0).get(1).i32Const(2).i32Shl().i32Add().set(end);
  f.loopUntil(
    () => f.get(0).get(end).i32GeU(),
    () => {
      f.get(total).get(0).loadI32(0).i32Add().set(total);
      f.advance(0, 4);
    },
  );
  f.get(total);
  return f;
}

describe('wasm assembler', () => {
  it('encodes LEB128 integers as the WebAssembly binary format requires', () => {
    expect(unsignedLeb(0)).toEqual([0]);
    expect(unsignedLeb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(signedLeb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(signedLeb(63)).toEqual([0x3f]);
    expect(signedLeb(64)).toEqual([0xc0, 0x00]);
  });

  it('builds a module with its own exported memory that grows on demand', () => {
    const instantiate = compileModule<{ memory: WasmMemory; sum(from: number, count: number): number }>(() => assembleModule([sumFunction()], { own: { initialPages: 1 } }));
    const kernel = instantiate();
    reserveMemory(kernel.memory, 3 * WASM_PAGE_BYTES);
    expect(kernel.memory.buffer.byteLength).toBe(3 * WASM_PAGE_BYTES);
    new Uint32Array(kernel.memory.buffer, 2 * WASM_PAGE_BYTES, 100).set(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(kernel.sum(2 * WASM_PAGE_BYTES, 100)).toBe(5050);
    expect(instantiate().memory).not.toBe(kernel.memory);
  });

  it('builds a module over an imported shared memory that every instance sees', () => {
    const memory = new webAssembly.Memory({ initial: 1, maximum: 4, shared: true });
    const instantiate = compileModule<{ sum(from: number, count: number): number }>(() => assembleModule([sumFunction()], { importedShared: { maximumPages: 4 } }));
    const [a, b] = [instantiate({ env: { memory } }), instantiate({ env: { memory } })];
    new Uint32Array(memory.buffer, 0, 4).set([7, 8, 9, 10]);
    expect(a.sum(0, 4)).toBe(34);
    expect(b.sum(4, 2)).toBe(17);
  });
});
