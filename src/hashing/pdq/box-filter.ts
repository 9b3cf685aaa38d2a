/**
 * The one-dimensional box filter of PDQ's Jarosz downsampling, reproducing the reference's
 * single-precision running sum step for step: the window grows from half its size at the start,
 * slides with one add and one subtract, and shrinks at the end; every output is the float sum
 * divided by the number of samples currently in the window. Rows are filtered four at a time
 * (`boxFilterRows`); columns are filtered as a stream of rows (`ColumnBoxStream`) so that a
 * whole image never has to be held as floats — only the last `window` rows are.
 */

/** The reference's window for shrinking `dimension` samples to `target`: ⌈dimension / (2·target)⌉. */
export function jaroszWindowSize(dimension: number, target: number): number {
  return Math.floor((dimension + 2 * target - 1) / (2 * target));
}

interface BoxPhases {
  /** Samples added before the first output. */
  readonly lead: number;
  /** Outputs written while the window is still growing. */
  readonly grow: number;
  /** Outputs written with the full window (one add, one subtract each). */
  readonly slide: number;
  /** Outputs written while the window shrinks at the end. */
  readonly shrink: number;
}

function boxPhases(length: number, window: number): BoxPhases {
  const half = Math.floor((window + 2) / 2);
  return { lead: half - 1, grow: window - half + 1, slide: length - window, shrink: half - 1 };
}

/** Rows filtered together by `boxFilterRows`: four independent running sums hide the latency of each. */
export const ROW_BATCH = 4;

/**
 * Box-filters `ROW_BATCH` rows at once: rows r = 0…3 of `input` (each `length` floats, stored
 * back to back) into the same rows of `output`. Every row gets exactly the arithmetic of a lone
 * row; interleaving them only lets the processor overlap the four dependency chains. Callers
 * with fewer rows leave the spare rows' contents as they are; their results are ignored.
 */
export function boxFilterRows(input: Float32Array, output: Float32Array, length: number, window: number): void {
  const { lead, grow, slide, shrink } = boxPhases(length, window);
  const fround = Math.fround;
  const r1 = length;
  const r2 = 2 * length;
  const r3 = 3 * length;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let count = 0;
  let right = 0;
  let left = 0;
  let out = 0;
  for (let i = 0; i < lead; i++, right++) {
    s0 = fround(s0 + input[right]!);
    s1 = fround(s1 + input[r1 + right]!);
    s2 = fround(s2 + input[r2 + right]!);
    s3 = fround(s3 + input[r3 + right]!);
    count++;
  }
  for (let i = 0; i < grow; i++, right++, out++) {
    s0 = fround(s0 + input[right]!);
    s1 = fround(s1 + input[r1 + right]!);
    s2 = fround(s2 + input[r2 + right]!);
    s3 = fround(s3 + input[r3 + right]!);
    count++;
    output[out] = s0 / count;
    output[r1 + out] = s1 / count;
    output[r2 + out] = s2 / count;
    output[r3 + out] = s3 / count;
  }
  for (let i = 0; i < slide; i++, right++, left++, out++) {
    s0 = fround(fround(s0 + input[right]!) - input[left]!);
    s1 = fround(fround(s1 + input[r1 + right]!) - input[r1 + left]!);
    s2 = fround(fround(s2 + input[r2 + right]!) - input[r2 + left]!);
    s3 = fround(fround(s3 + input[r3 + right]!) - input[r3 + left]!);
    output[out] = s0 / count;
    output[r1 + out] = s1 / count;
    output[r2 + out] = s2 / count;
    output[r3 + out] = s3 / count;
  }
  for (let i = 0; i < shrink; i++, left++, out++) {
    s0 = fround(s0 - input[left]!);
    s1 = fround(s1 - input[r1 + left]!);
    s2 = fround(s2 - input[r2 + left]!);
    s3 = fround(s3 - input[r3 + left]!);
    count--;
    output[out] = s0 / count;
    output[r1 + out] = s1 / count;
    output[r2 + out] = s2 / count;
    output[r3 + out] = s3 / count;
  }
}

/** Receives one filtered row: `row[0 … width-1]` is output row `index`; valid only during the call. */
export type RowSink = (row: Float32Array, index: number) => void;

/**
 * Box-filters along columns, fed one row at a time, top to bottom. Each pushed row is copied
 * into a ring of the last `window` rows (what the sliding subtract needs); filtered rows are
 * handed to the sink in order as soon as they are complete, and `finish` emits the rest.
 */
export class ColumnBoxStream {
  private readonly width: number;
  private readonly window: number;
  private readonly phases: BoxPhases;
  private readonly sums: Float32Array;
  private readonly ring: Float32Array;
  private readonly outRow: Float32Array;
  private pushed = 0;
  private emitted = 0;
  private count = 0;

  constructor(width: number, length: number, window: number) {
    this.width = width;
    this.window = window;
    this.phases = boxPhases(length, window);
    this.sums = new Float32Array(width);
    this.ring = new Float32Array(width * window);
    this.outRow = new Float32Array(width);
  }

  /** Pushes `rows[offset … offset+width-1]` as the next row. */
  push(rows: Float32Array, offset: number, sink: RowSink): void {
    const { width, sums, ring, outRow } = this;
    const fround = Math.fround;
    const slot = (this.pushed % this.window) * width;
    const index = this.pushed++;
    if (index < this.phases.lead + this.phases.grow) {
      for (let x = 0; x < width; x++) sums[x] = sums[x]! + rows[offset + x]!;
      this.count++;
      if (index >= this.phases.lead) {
        const count = this.count;
        for (let x = 0; x < width; x++) outRow[x] = sums[x]! / count;
        sink(outRow, this.emitted++);
      }
    } else {
      // The slot still holds row `index - window`: the one leaving the window.
      const count = this.count;
      for (let x = 0; x < width; x++) {
        const sum = fround(fround(sums[x]! + rows[offset + x]!) - ring[slot + x]!);
        sums[x] = sum;
        outRow[x] = sum / count;
      }
      sink(outRow, this.emitted++);
    }
    for (let x = 0; x < width; x++) ring[slot + x] = rows[offset + x]!;
  }

  /** Emits the last rows, where the window shrinks; call once after the last `push`. */
  finish(sink: RowSink): void {
    const { width, sums, ring, outRow } = this;
    for (let i = 0; i < this.phases.shrink; i++) {
      const slot = ((this.pushed - this.window + i) % this.window) * width;
      this.count--;
      const count = this.count;
      for (let x = 0; x < width; x++) {
        const sum = Math.fround(sums[x]! - ring[slot + x]!);
        sums[x] = sum;
        outRow[x] = sum / count;
      }
      sink(outRow, this.emitted++);
    }
  }
}
