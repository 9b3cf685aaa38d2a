/**
 * blockhash (blockhash.io), 256 bits: the precise method (`bmvbhash`, 16×16 blocks) that SPEC §2
 * names `blockhash`, equal bit for bit to the blockhash-core package (the tests hold it to
 * blockhash-core and to the reference vectors) but several times faster, and reading RGB as
 * well as RGBA pixels so that opaque images need no alpha channel.
 *
 * blockhash-core sums each pixel's R+G+B (765, i.e. white, when alpha is 0) into the blocks it
 * overlaps, weighted by the overlap, in double precision and in raster order. Floating-point
 * sums depend on their order, so this implementation keeps, for every block, exactly that
 * block's sequence of additions and only changes what does not affect it: the weights are
 * planned once per column and row (here), the per-pixel loops run in WebAssembly, whose f64 is
 * JavaScript's number (`blockhash-kernel.ts`), different blocks are no longer interleaved, and
 * the zero-weight terms blockhash-core adds at every pixel are skipped (adding +0 to a
 * non-negative sum leaves it unchanged). Images whose sides are both multiples of 16, which
 * blockhash-core sends to its integer path (`bmvbhashEven`), get the same integer sums here:
 * their weights are all 1 or 0, and integer sums below 2^53 do not depend on order.
 */
import { BLOCK_COLUMNS, type BlockhashKernelExports, instantiateBlockhashKernel } from './blockhash-kernel.js';
import type { RawImage } from './raw-image.js';
import { reserveMemory } from '../runtime/wasm/webassembly-api.js';

/** Blocks per side: 16 × 16 blocks, 256 bits. */
const BITS = BLOCK_COLUMNS;
const BLOCKS = BITS * BITS;

/**
 * How one axis of pixels falls into the 16 blocks: for each pixel, its first block, second
 * block (the same one unless the pixel straddles a boundary) and their weights, computed with
 * blockhash-core's formulas.
 */
interface AxisSplit {
  readonly first: Int32Array;
  readonly second: Int32Array;
  readonly firstWeight: Float64Array;
  readonly secondWeight: Float64Array;
}

function splitAxis(length: number): AxisSplit {
  const first = new Int32Array(length);
  const second = new Int32Array(length);
  const firstWeight = new Float64Array(length);
  const secondWeight = new Float64Array(length);
  const even = length % BITS === 0;
  const blockSize = length / BITS;
  for (let i = 0; i < length; i++) {
    if (even) {
      first[i] = second[i] = Math.floor(i / blockSize);
      firstWeight[i] = 1;
      secondWeight[i] = 0;
      continue;
    }
    const mod = (i + 1) % blockSize;
    const frac = mod - Math.floor(mod);
    const whole = mod - frac;
    firstWeight[i] = 1 - frac;
    secondWeight[i] = frac;
    // `whole` is 0 on block boundaries and at the far edge.
    if (whole > 0 || i + 1 === length) {
      first[i] = second[i] = Math.floor(i / blockSize);
    } else {
      first[i] = Math.floor(i / blockSize);
      second[i] = Math.ceil(i / blockSize);
    }
  }
  return { first, second, firstWeight, secondWeight };
}

/**
 * Per block column, the pixels of a row that add to it, in x order, each with the two column
 * weights it adds with (the second is 0 unless the pixel adds twice to this block).
 */
interface ColumnPlan {
  readonly start: Int32Array; // BITS + 1 offsets into the entry arrays
  readonly x: Int32Array;
  readonly weight1: Float64Array;
  readonly weight2: Float64Array;
  /** False when every second weight is 0 (the width is a multiple of 16). */
  readonly hasSecondWeights: boolean;
}

function planColumns(width: number): ColumnPlan {
  const split = splitAxis(width);
  const lists: { x: number; w1: number; w2: number }[][] = Array.from({ length: BITS }, () => []);
  for (let x = 0; x < width; x++) {
    const left = split.first[x]!;
    const right = split.second[x]!;
    if (left === right) {
      lists[left]!.push({ x, w1: split.firstWeight[x]!, w2: split.secondWeight[x]! });
    } else {
      lists[left]!.push({ x, w1: split.firstWeight[x]!, w2: 0 });
      lists[right]!.push({ x, w1: split.secondWeight[x]!, w2: 0 });
    }
  }
  // A straddling pixel is the first entry of its right-hand block: its x is below every other.
  for (const list of lists) list.sort((a, b) => a.x - b.x);
  const total = lists.reduce((n, list) => n + list.length, 0);
  const start = new Int32Array(BITS + 1);
  const xs = new Int32Array(total);
  const weight1 = new Float64Array(total);
  const weight2 = new Float64Array(total);
  let offset = 0;
  lists.forEach((list, c) => {
    start[c] = offset;
    for (const entry of list) {
      xs[offset] = entry.x;
      weight1[offset] = entry.w1;
      weight2[offset] = entry.w2;
      offset++;
    }
  });
  start[BITS] = offset;
  return { start, x: xs, weight1, weight2, hasSecondWeights: weight2.some((w) => w !== 0) };
}

/** Rows of pixels copied into the kernel's memory at a time. */
const ROW_CHUNK = 16;
const align8 = (bytes: number): number => Math.ceil(bytes / 8) * 8;

/** Computes blockhash values on one kernel instance; not re-entrant (one per thread). */
class BlockSummer {
  private readonly kernel: BlockhashKernelExports = instantiateBlockhashKernel();

  /** The 256 weighted block sums of `image`, as blockhash-core's precise method computes them. */
  sums(image: RawImage): Float64Array {
    const { width, height, channels, data } = image;
    const plan = planColumns(width);
    const rows = splitAxis(height);
    const entries = plan.x.length;
    const pixels = 0;
    const values = align8(ROW_CHUNK * width * channels + 4); // +4: the kernel peeks at a 4th byte
    const xs = values + width * 8;
    const first = align8(xs + entries * 4);
    const second = first + entries * 8;
    const starts = second + entries * 8;
    const blocks = align8(starts + (BITS + 1) * 4);
    const k = this.kernel;
    reserveMemory(k.memory, blocks + BITS * BITS * 8);
    const memory = k.memory.buffer;
    new Int32Array(memory, xs, entries).set(plan.x);
    new Float64Array(memory, first, entries).set(plan.weight1);
    new Float64Array(memory, second, entries).set(plan.weight2);
    new Int32Array(memory, starts, BITS + 1).set(plan.start);
    const blockSums = new Float64Array(memory, blocks, BITS * BITS);
    blockSums.fill(0);
    const bytes = new Uint8Array(memory);
    const withSecond = plan.hasSecondWeights ? 1 : 0;
    const rowBytes = width * channels;
    for (let y0 = 0; y0 < height; y0 += ROW_CHUNK) {
      const chunk = Math.min(ROW_CHUNK, height - y0);
      bytes.set(data.subarray(y0 * rowBytes, (y0 + chunk) * rowBytes), pixels);
      for (let r = 0; r < chunk; r++) {
        const y = y0 + r;
        k.rowValues(pixels + r * rowBytes, channels, width, values);
        const top = blocks + rows.first[y]! * BITS * 8;
        const bottom = blocks + rows.second[y]! * BITS * 8;
        const topWeight = rows.firstWeight[y]!;
        const bottomWeight = rows.secondWeight[y]!;
        if (top === bottom) {
          // Both shares in one block row: each pixel adds its top then its bottom share (if any).
          k.addRow(values, xs, first, second, starts, top, topWeight, bottomWeight, withSecond, bottomWeight === 0 ? 0 : 1);
        } else {
          k.addRow(values, xs, first, second, starts, top, topWeight, 0, withSecond, 0);
          if (bottomWeight !== 0) k.addRow(values, xs, first, second, starts, bottom, bottomWeight, 0, withSecond, 0);
        }
      }
    }
    return Float64Array.from(blockSums);
  }
}

/** blockhash-core's thresholding: per band of 4 block rows, 1 where a block is above the band's median. */
function blocksToHex(blocks: Float64Array, pixelsPerBlock: number): string {
  const halfBlockValue = (pixelsPerBlock * 256 * 3) / 2;
  const bandSize = BLOCKS / 4;
  let hex = '';
  for (let band = 0; band < 4; band++) {
    const values = Array.from(blocks.subarray(band * bandSize, (band + 1) * bandSize));
    const sorted = [...values].sort((p, q) => p - q);
    const median = (sorted[bandSize / 2 - 1]! + sorted[bandSize / 2]!) / 2;
    for (let i = 0; i < bandSize; i += 4) {
      let nibble = 0;
      for (let j = 0; j < 4; j++) {
        const v = values[i + j]!;
        // Blocks equal to a bright median count as 1, so near-uniform images do not hash to all zeros.
        const bit = v > median || (Math.abs(v - median) < 1 && median > halfBlockValue);
        nibble = (nibble << 1) | (bit ? 1 : 0);
      }
      hex += nibble.toString(16);
    }
  }
  return hex;
}

let sharedSummer: BlockSummer | undefined;

export function blockhash(image: RawImage): string {
  sharedSummer ??= new BlockSummer();
  return blocksToHex(sharedSummer.sums(image), (image.width / BITS) * (image.height / BITS));
}
