/**
 * The per-pixel loops of blockhash as a WebAssembly module, assembled at start-up: each row's
 * pixel values (R+G+B, or 765 where alpha is 0) and their weighted addition into the row's 16
 * blocks. WebAssembly's f64 is JavaScript's number, so the sums are the ones blockhash-core
 * computes in JavaScript, added in the same order; `blockhash.ts` plans the weights and
 * thresholds the sums.
 */
import { assembleModule, F64, FunctionAssembler, I32 } from '../runtime/wasm/wasm-assembler.js';
import { compileModule, type WasmMemory } from '../runtime/wasm/webassembly-api.js';

const TRANSPARENT_VALUE = 765;
export const BLOCK_COLUMNS = 16;

/** rowValues(src, channels, width, dst): dst[x] (f64) = R+G+B of pixel x, or 765 where a 4th channel is 0. */
function rowValues(): FunctionAssembler {
  const f = new FunctionAssembler('rowValues', [I32, I32, I32, I32]);
  const [src, channels, width, dst] = [0, 1, 2, 3];
  const isRgba = f.local(I32);
  f.get(channels).i32Const(4).i32Eq().set(isRgba);
  f.repeat(width, () => {
    f.get(dst);
    f.i32Const(TRANSPARENT_VALUE);
    f.get(src).loadU8(0).get(src).loadU8(1).i32Add().get(src).loadU8(2).i32Add();
    // Transparent only when there is an alpha channel and it is 0; an RGB pixel reads its own
    // first byte here, which the `isRgba` factor discards.
    f.get(isRgba).get(src).loadU8(3).i32Eqz().i32Mul();
    f.select();
    f.f64ConvertI32S().storeF64();
    f.get(src).get(channels).i32Add().set(src);
    f.advance(dst, 8);
  });
  return f;
}

/**
 * addRow(values, xs, firstWeights, secondWeights, starts, blocks, rowWeight, splitWeight,
 * withSecond, withSplit): for each block column c, its entries e in starts[c] … starts[c+1]−1
 * in order, with v = values[xs[e]]:
 *   sum += (v·rowWeight)·first[e]; [sum += (v·rowWeight)·second[e]]
 *   [sum += (v·splitWeight)·first[e]; [sum += (v·splitWeight)·second[e]]]
 * the bracketed terms only when `withSecond` / `withSplit` (the others would add +0).
 */
function addRow(): FunctionAssembler {
  const f = new FunctionAssembler('addRow', [I32, I32, I32, I32, I32, I32, F64, F64, I32, I32]);
  const [values, xs, firstWeights, secondWeights, starts, blocks, rowWeight, splitWeight, withSecond, withSplit] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const column = f.local(I32);
  const entries = f.local(I32);
  const xPointer = f.local(I32);
  const firstPointer = f.local(I32);
  const secondPointer = f.local(I32);
  const sum = f.local(F64);
  const value = f.local(F64);
  const scaled = f.local(F64);
  f.i32Const(BLOCK_COLUMNS).set(column);
  f.repeat(column, () => {
    // entries = starts[c+1] − starts[c]; pointers to entry starts[c]
    f.get(starts).loadI32(4).get(starts).loadI32(0).i32Sub().set(entries);
    f.get(xs).get(starts).loadI32(0).i32Const(2).i32Shl().i32Add().set(xPointer);
    f.get(firstWeights).get(starts).loadI32(0).i32Const(3).i32Shl().i32Add().set(firstPointer);
    f.get(secondWeights).get(starts).loadI32(0).i32Const(3).i32Shl().i32Add().set(secondPointer);
    f.get(blocks).loadF64().set(sum);
    f.repeat(entries, () => {
      f.get(values).get(xPointer).loadI32().i32Const(3).i32Shl().i32Add().loadF64().set(value);
      f.get(value).get(rowWeight).f64Mul().set(scaled);
      f.get(sum).get(scaled).get(firstPointer).loadF64().f64Mul().f64Add().set(sum);
      f.get(withSecond).when(() => {
        f.get(sum).get(scaled).get(secondPointer).loadF64().f64Mul().f64Add().set(sum);
      });
      f.get(withSplit).when(() => {
        f.get(value).get(splitWeight).f64Mul().set(scaled);
        f.get(sum).get(scaled).get(firstPointer).loadF64().f64Mul().f64Add().set(sum);
        f.get(withSecond).when(() => {
          f.get(sum).get(scaled).get(secondPointer).loadF64().f64Mul().f64Add().set(sum);
        });
      });
      f.advance(xPointer, 4).advance(firstPointer, 8).advance(secondPointer, 8);
    });
    f.get(blocks).get(sum).storeF64();
    f.advance(blocks, 8).advance(starts, 4);
  });
  return f;
}

export interface BlockhashKernelExports {
  readonly memory: WasmMemory;
  rowValues(src: number, channels: number, width: number, dst: number): void;
  addRow(
    values: number,
    xs: number,
    firstWeights: number,
    secondWeights: number,
    starts: number,
    blocks: number,
    rowWeight: number,
    splitWeight: number,
    withSecond: number,
    withSplit: number,
  ): void;
}

/** A fresh instance (with its own memory) of the kernel module, compiled once per thread. */
export const instantiateBlockhashKernel = compileModule<BlockhashKernelExports>(() => assembleModule([rowValues(), addRow()], { own: { initialPages: 1 } }));
