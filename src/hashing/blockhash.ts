/**
 * blockhash (blockhash.io), 256 bits: the precise method (`bmvbhash`, 16×16 blocks) that SPEC §2
 * names `blockhash`, equal bit for bit to the blockhash-core package (the tests hold it to
 * blockhash-core and to the reference vectors) but about twice as fast, and reading RGB as
 * well as RGBA pixels so that opaque images need no alpha channel.
 *
 * blockhash-core sums each pixel's R+G+B (765, i.e. white, when alpha is 0) into the blocks it
 * overlaps, weighted by the overlap, in double precision and in raster order. Floating-point
 * sums depend on their order, so this implementation keeps, for every block, exactly that
 * block's sequence of additions and only changes what does not affect it: the weights are
 * tabulated once per column and row, each block's sum stays in a register while its pixels of
 * a row are added, different blocks are no longer interleaved, and the zero-weight terms that
 * blockhash-core adds at every pixel of a width divisible by 16 are skipped (adding +0 to a
 * non-negative sum leaves it unchanged). Images whose sides are both multiples of 16 take
 * blockhash-core's integer path (`bmvbhashEven`), as there.
 */
import type { RawImage } from './raw-image.js';

export const BLOCKHASH_BITS_PER_SIDE = 16;
const BITS = BLOCKHASH_BITS_PER_SIDE;
const BLOCKS = BITS * BITS;
const TRANSPARENT_VALUE = 765;

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

/** R+G+B of each pixel of row `y`, or 765 where alpha is 0. */
function fillRowValues(image: RawImage, y: number, out: Float64Array): void {
  const { data, width, channels } = image;
  let p = y * width * channels;
  if (channels === 4) {
    for (let x = 0; x < width; x++, p += 4) out[x] = data[p + 3] === 0 ? TRANSPARENT_VALUE : data[p]! + data[p + 1]! + data[p + 2]!;
  } else {
    for (let x = 0; x < width; x++, p += 3) out[x] = data[p]! + data[p + 1]! + data[p + 2]!;
  }
}

/**
 * Adds one pixel row into the 16 blocks at `blocks[rowOffset …]`, block by block, each block's
 * pixels in x order: a pixel's value × `rowWeight` × its two column weights, then (when
 * `splitWeight` is not 0) its value × `splitWeight` × the same two — blockhash-core's top then
 * bottom share when both fall in one block row. Where no pixel has a second column weight
 * (widths divisible by 16) those zero terms are skipped.
 */
function addRow(plan: ColumnPlan, values: Float64Array, rowWeight: number, blocks: Float64Array, rowOffset: number, splitWeight: number): void {
  const { start, x, weight1, weight2, hasSecondWeights } = plan;
  for (let c = 0; c < BITS; c++) {
    let sum = blocks[rowOffset + c]!;
    const end = start[c + 1]!;
    if (!hasSecondWeights && splitWeight === 0) {
      for (let e = start[c]!; e < end; e++) sum += values[x[e]!]! * rowWeight * weight1[e]!;
    } else if (!hasSecondWeights) {
      for (let e = start[c]!; e < end; e++) {
        const value = values[x[e]!]!;
        sum += value * rowWeight * weight1[e]!;
        sum += value * splitWeight * weight1[e]!;
      }
    } else {
      for (let e = start[c]!; e < end; e++) {
        const value = values[x[e]!]!;
        const a = value * rowWeight;
        sum += a * weight1[e]!;
        sum += a * weight2[e]!;
        if (splitWeight !== 0) {
          const b = value * splitWeight;
          sum += b * weight1[e]!;
          sum += b * weight2[e]!;
        }
      }
    }
    blocks[rowOffset + c] = sum;
  }
}

function preciseBlocks(image: RawImage): { blocks: Float64Array; pixelsPerBlock: number } {
  const { width, height } = image;
  const plan = planColumns(width);
  const rows = splitAxis(height);
  const blocks = new Float64Array(BLOCKS);
  const values = new Float64Array(width);
  for (let y = 0; y < height; y++) {
    fillRowValues(image, y, values);
    const top = rows.first[y]!;
    const bottom = rows.second[y]!;
    const topWeight = rows.firstWeight[y]!;
    const bottomWeight = rows.secondWeight[y]!;
    if (top === bottom) {
      addRow(plan, values, topWeight, blocks, top * BITS, bottomWeight);
    } else {
      addRow(plan, values, topWeight, blocks, top * BITS, 0);
      if (bottomWeight !== 0) addRow(plan, values, bottomWeight, blocks, bottom * BITS, 0);
    }
  }
  return { blocks, pixelsPerBlock: (width / BITS) * (height / BITS) };
}

/** blockhash-core's `bmvbhashEven`: integer block sums over a whole number of pixels per block. */
function evenBlocks(image: RawImage): { blocks: Float64Array; pixelsPerBlock: number } {
  const { width, height } = image;
  const blockWidth = Math.floor(width / BITS);
  const blockHeight = Math.floor(height / BITS);
  const blocks = new Float64Array(BLOCKS);
  const values = new Float64Array(width);
  for (let y = 0; y < blockHeight * BITS; y++) {
    fillRowValues(image, y, values);
    const rowOffset = Math.floor(y / blockHeight) * BITS;
    for (let c = 0; c < BITS; c++) {
      let sum = 0;
      for (let x = c * blockWidth; x < (c + 1) * blockWidth; x++) sum += values[x]!;
      blocks[rowOffset + c]! += sum;
    }
  }
  return { blocks, pixelsPerBlock: blockWidth * blockHeight };
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

export function blockhash(image: RawImage): string {
  const even = image.width % BITS === 0 && image.height % BITS === 0;
  const { blocks, pixelsPerBlock } = even ? evenBlocks(image) : preciseBlocks(image);
  return blocksToHex(blocks, pixelsPerBlock);
}
