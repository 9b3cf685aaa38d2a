/**
 * The inner loops of PDQ's Jarosz downsampling as a WebAssembly module, assembled at start-up
 * from the definitions below. WebAssembly computes `f32` natively with IEEE single-precision
 * rounding — the reference's arithmetic — so no rounding has to be emulated, and the column
 * filter runs on four columns per SIMD instruction (independent columns, so each still sees
 * exactly its own sequence of operations). Every function mirrors a loop of the TypeScript
 * implementation (`../luminance.ts`, `../box-filter.ts`) operation for operation; the tests
 * hold both, and a plain transcription of the reference, to the same bits.
 *
 * Addresses and lengths are in bytes. Rows handed to the column functions are padded to a
 * multiple of 16 bytes; the padding lanes compute values nobody reads.
 */
import { assembleModule, F32, F64, FunctionAssembler, I32, V128, type ValueType } from '../../../runtime/wasm/wasm-assembler.js';
import { compileModule, type WasmMemory } from '../../../runtime/wasm/webassembly-api.js';

const LUMA_RED = 0.299;
const LUMA_GREEN = 0.587;
const LUMA_BLUE = 0.114;

/** luma(src, channels, count, dst): dst[i] = (0.299·R + 0.587·G) + 0.114·B for `count` pixels of `channels` bytes. */
function luma(): FunctionAssembler {
  const f = new FunctionAssembler('luma', [I32, I32, I32, I32]);
  const [src, channels, count, dst] = [0, 1, 2, 3];
  f.repeat(count, () => {
    f.get(dst);
    f.f32Const(LUMA_RED).get(src).loadU8(0).f32ConvertI32S().f32Mul();
    f.f32Const(LUMA_GREEN).get(src).loadU8(1).f32ConvertI32S().f32Mul();
    f.f32Add();
    f.f32Const(LUMA_BLUE).get(src).loadU8(2).f32ConvertI32S().f32Mul();
    f.f32Add();
    f.storeF32();
    f.get(src).get(channels).i32Add().set(src);
    f.advance(dst, 4);
  });
  return f;
}

/**
 * boxRows(src, dst, stride, lead, grow, slide, shrink): the running-sum box filter on four rows
 * at once (row r starts at `src + r·stride`), four scalar sums, written out to
 * `dst + r·stride`. The phase lengths are the reference's (see `boxPhases`).
 */
function boxRows(): FunctionAssembler {
  const f = new FunctionAssembler('boxRows', [I32, I32, I32, I32, I32, I32, I32]);
  const [src, dst, stride, lead, grow, slide, shrink] = [0, 1, 2, 3, 4, 5, 6];
  const right = f.local(I32);
  const left = f.local(I32);
  const out = f.local(I32);
  const count = f.local(F32);
  const sums = [f.local(F32), f.local(F32), f.local(F32), f.local(F32)];
  const offsets = [-1, stride, f.local(I32), f.local(I32)];
  f.get(stride).get(stride).i32Add().set(offsets[2]!);
  f.get(offsets[2]!).get(stride).i32Add().set(offsets[3]!);
  f.get(src).set(right).get(src).set(left).get(dst).set(out);

  const address = (base: number, lane: number): void => {
    f.get(base);
    if (lane > 0) f.get(offsets[lane]!).i32Add();
  };
  const addRight = (): void => {
    for (let lane = 0; lane < 4; lane++) {
      f.get(sums[lane]!);
      address(right, lane);
      f.loadF32().f32Add().set(sums[lane]!);
    }
  };
  const subtractLeft = (): void => {
    for (let lane = 0; lane < 4; lane++) {
      f.get(sums[lane]!);
      address(left, lane);
      f.loadF32().f32Sub().set(sums[lane]!);
    }
  };
  const writeOut = (): void => {
    for (let lane = 0; lane < 4; lane++) {
      address(out, lane);
      f.get(sums[lane]!).get(count).f32Div().storeF32();
    }
  };
  // Full window: sum · (1/count) in double, rounded to float — equal to the float division
  // (see `../box-filter.ts`) and several times cheaper.
  const inverse = f.local(F64);
  const writeOutScaled = (): void => {
    for (let lane = 0; lane < 4; lane++) {
      address(out, lane);
      f.get(sums[lane]!).f64PromoteF32().get(inverse).f64Mul().f32DemoteF64().storeF32();
    }
  };

  f.repeat(lead, () => {
    addRight();
    f.get(count).f32Const(1).f32Add().set(count);
    f.advance(right, 4);
  });
  f.repeat(grow, () => {
    addRight();
    f.get(count).f32Const(1).f32Add().set(count);
    writeOut();
    f.advance(right, 4).advance(out, 4);
  });
  f.get(count).f64PromoteF32().set(inverse);
  f.f64Const(1).get(inverse).f64Div().set(inverse);
  f.repeat(slide, () => {
    addRight();
    subtractLeft();
    writeOutScaled();
    f.advance(right, 4).advance(left, 4).advance(out, 4);
  });
  f.repeat(shrink, () => {
    subtractLeft();
    f.get(count).f32Const(1).f32Sub().set(count);
    writeOut();
    f.advance(left, 4).advance(out, 4);
  });
  return f;
}

type ColumnStep = 'add' | 'addEmit' | 'slide' | 'shrink';

/**
 * One row's step of the column filter, 16 bytes (4 columns) per iteration over `bytes`:
 * - add(row, sums, slot, bytes): sums += row; slot = row
 * - addEmit(row, sums, slot, out, bytes, count): sums += row; out = sums / count; slot = row
 * - slide(row, sums, slot, out, bytes, count): sums = (sums + row) − slot; out = sums / count; slot = row
 * - shrink(sums, slot, out, bytes, count): sums −= slot; out = sums / count
 */
function columnStep(step: ColumnStep): FunctionAssembler {
  const hasRow = step !== 'shrink';
  const hasOut = step !== 'add';
  const params: ValueType[] = [];
  if (hasRow) params.push(I32);
  params.push(I32, I32);
  if (hasOut) params.push(I32);
  params.push(I32);
  if (hasOut) params.push(F32);
  const f = new FunctionAssembler(`column_${step}`, params);
  let next = 0;
  const row = hasRow ? next++ : -1;
  const sums = next++;
  const slot = next++;
  const out = hasOut ? next++ : -1;
  const bytes = next++;
  const count = hasOut ? next++ : -1;
  const iterations = f.local(I32);
  const divisor = f.local(V128);
  f.get(bytes).i32Const(4).i32ShrU().set(iterations);
  if (hasOut) f.get(count).f32x4Splat().set(divisor);
  f.repeat(iterations, () => {
    f.get(sums); // address for the store of the new sum
    f.get(sums).loadV128();
    if (step === 'shrink') {
      f.get(slot).loadV128().f32x4Sub();
    } else {
      f.get(row).loadV128().f32x4Add();
      if (step === 'slide') f.get(slot).loadV128().f32x4Sub();
    }
    f.storeV128();
    if (hasOut) f.get(out).get(sums).loadV128().get(divisor).f32x4Div().storeV128();
    if (hasRow) f.get(slot).get(row).loadV128().storeV128();
    for (const pointer of [row, sums, slot, out]) if (pointer >= 0) f.advance(pointer, 16);
  });
  return f;
}

export interface JaroszKernelExports {
  readonly memory: WasmMemory;
  luma(src: number, channels: number, count: number, dst: number): void;
  boxRows(src: number, dst: number, stride: number, lead: number, grow: number, slide: number, shrink: number): void;
  column_add(row: number, sums: number, slot: number, bytes: number): void;
  column_addEmit(row: number, sums: number, slot: number, out: number, bytes: number, count: number): void;
  column_slide(row: number, sums: number, slot: number, out: number, bytes: number, count: number): void;
  column_shrink(sums: number, slot: number, out: number, bytes: number, count: number): void;
}

/** A fresh instance (with its own memory) of the kernel module, compiled once per thread. */
export const instantiateJaroszKernel = compileModule<JaroszKernelExports>(() =>
  assembleModule([luma(), boxRows(), columnStep('add'), columnStep('addEmit'), columnStep('slide'), columnStep('shrink')], { own: { initialPages: 16 } }),
);
