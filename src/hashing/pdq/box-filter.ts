/**
 * The one-dimensional box filter of PDQ's Jarosz downsampling, reproducing the reference's
 * single-precision running sum step for step: the window grows from half its size at the start,
 * slides with one add and one subtract, and shrinks at the end; every output is the float sum
 * divided by the number of samples currently in the window.
 *
 * Where the window is full, the division is a multiplication by the reciprocal. That is exact:
 * for a float sum s and an integer count c < 2^20, s/c is never within 2^-45 (relative) of a
 * point halfway between two floats unless it is a float itself, while s · (1/c) in double
 * precision is within 2^-51 of s/c, so both round to the same float.
 *
 * Rows are filtered four at a time (`boxFilterRows`, `boxFilterRowsAt`): four independent
 * running sums let the processor overlap their dependency chains. The hot loops are written
 * out without closures, which would move the sums out of registers. Columns are filtered as a
 * stream of rows (`ColumnBoxStream`), so a whole image never has to be held as floats.
 */

/** The reference's window for shrinking `dimension` samples to `target`: ⌈dimension / (2·target)⌉. */
export function jaroszWindowSize(dimension: number, target: number): number {
  return Math.floor((dimension + 2 * target - 1) / (2 * target));
}

/** Rows filtered together by `boxFilterRows` and `boxFilterRowsAt`. */
export const ROW_BATCH = 4;

export interface BoxPhases {
  /** Samples added before the first output. */
  readonly lead: number;
  /** Outputs written while the window is still growing. */
  readonly grow: number;
  /** Outputs written with the full window (one add, one subtract each). */
  readonly slide: number;
  /** Outputs written while the window shrinks at the end. */
  readonly shrink: number;
}

export function boxPhases(length: number, window: number): BoxPhases {
  const half = Math.floor((window + 2) / 2);
  return { lead: half - 1, grow: window - half + 1, slide: length - window, shrink: half - 1 };
}

/**
 * Box-filters four rows of `input` (each `length` floats, back to back) into the same rows of
 * `output`. Spare rows of a partial batch are filtered too; callers ignore their results.
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
  const inverse = 1 / count;
  for (let i = 0; i < slide; i++, right++, left++, out++) {
    s0 = fround(fround(s0 + input[right]!) - input[left]!);
    s1 = fround(fround(s1 + input[r1 + right]!) - input[r1 + left]!);
    s2 = fround(fround(s2 + input[r2 + right]!) - input[r2 + left]!);
    s3 = fround(fround(s3 + input[r3 + right]!) - input[r3 + left]!);
    output[out] = s0 * inverse;
    output[r1 + out] = s1 * inverse;
    output[r2 + out] = s2 * inverse;
    output[r3 + out] = s3 * inverse;
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

/**
 * Box-filters four rows like `boxFilterRows` but keeps only the outputs at the ascending
 * positions `kept` (repeats allowed): row r's k-th kept value goes to `output[r · n + k]`,
 * n = `kept.length`. The running sums still cover every sample, as they must. (Written out
 * apart from `boxFilterRows`: a shared callback per output would keep the sums out of registers.)
 */
export function boxFilterRowsAt(input: Float32Array, length: number, window: number, kept: Int32Array, output: Float32Array): void {
  const n = kept.length;
  const n2 = 2 * n;
  const n3 = 3 * n;
  let k = 0;
  let nextKept = n > 0 ? kept[0]! : -1;
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
    while (out === nextKept) {
      output[k] = s0 / count;
      output[n + k] = s1 / count;
      output[n2 + k] = s2 / count;
      output[n3 + k] = s3 / count;
      nextKept = ++k < n ? kept[k]! : -1;
    }
  }
  const inverse = 1 / count;
  for (let i = 0; i < slide; i++, right++, left++, out++) {
    s0 = fround(fround(s0 + input[right]!) - input[left]!);
    s1 = fround(fround(s1 + input[r1 + right]!) - input[r1 + left]!);
    s2 = fround(fround(s2 + input[r2 + right]!) - input[r2 + left]!);
    s3 = fround(fround(s3 + input[r3 + right]!) - input[r3 + left]!);
    while (out === nextKept) {
      output[k] = s0 * inverse;
      output[n + k] = s1 * inverse;
      output[n2 + k] = s2 * inverse;
      output[n3 + k] = s3 * inverse;
      nextKept = ++k < n ? kept[k]! : -1;
    }
  }
  for (let i = 0; i < shrink; i++, left++, out++) {
    s0 = fround(s0 - input[left]!);
    s1 = fround(s1 - input[r1 + left]!);
    s2 = fround(s2 - input[r2 + left]!);
    s3 = fround(s3 - input[r3 + left]!);
    count--;
    while (out === nextKept) {
      output[k] = s0 / count;
      output[n + k] = s1 / count;
      output[n2 + k] = s2 / count;
      output[n3 + k] = s3 / count;
      nextKept = ++k < n ? kept[k]! : -1;
    }
  }
}

/**
 * Box-filters along columns, fed one row at a time, top to bottom. Each pushed row is copied
 * into a ring of the last `window` rows (what the sliding subtract needs). Output rows come
 * out in order: `push` writes one whenever it completes, and after the last push `flush`
 * writes each of the remaining `pending` rows.
 */
export class ColumnBoxStream {
  private readonly width: number;
  private readonly window: number;
  private readonly phases: BoxPhases;
  private readonly sums: Float32Array;
  private readonly ring: Float32Array;
  private pushed = 0;
  private flushed = 0;
  private count = 0;

  constructor(width: number, length: number, window: number) {
    this.width = width;
    this.window = window;
    this.phases = boxPhases(length, window);
    this.sums = new Float32Array(width);
    this.ring = new Float32Array(width * window);
  }

  /** Rows still to come out through `flush` once every row is pushed. */
  get pending(): number {
    return this.phases.shrink - this.flushed;
  }

  /**
   * Pushes `rows[offset … offset+width-1]` as the next row; when that completes an output row,
   * writes it to `out[outOffset …]` and answers true.
   */
  push(rows: Float32Array, offset: number, out: Float32Array, outOffset: number): boolean {
    const { width, sums, ring } = this;
    const fround = Math.fround;
    const slot = (this.pushed % this.window) * width;
    const index = this.pushed++;
    let wrote = false;
    if (index < this.phases.lead + this.phases.grow) {
      for (let x = 0; x < width; x++) sums[x] = sums[x]! + rows[offset + x]!;
      this.count++;
      if (index >= this.phases.lead) {
        const count = this.count;
        for (let x = 0; x < width; x++) out[outOffset + x] = sums[x]! / count;
        wrote = true;
      }
    } else {
      // The slot still holds row `index - window`: the one leaving the window.
      const inverse = 1 / this.count;
      for (let x = 0; x < width; x++) {
        const sum = fround(fround(sums[x]! + rows[offset + x]!) - ring[slot + x]!);
        sums[x] = sum;
        out[outOffset + x] = sum * inverse;
      }
      wrote = true;
    }
    for (let x = 0; x < width; x++) ring[slot + x] = rows[offset + x]!;
    return wrote;
  }

  /** Writes the next of the last rows, where the window shrinks, to `out[outOffset …]`. */
  flush(out: Float32Array, outOffset: number): void {
    const { width, sums, ring } = this;
    const slot = ((this.pushed - this.window + this.flushed) % this.window) * width;
    this.flushed++;
    this.count--;
    const count = this.count;
    for (let x = 0; x < width; x++) {
      const sum = Math.fround(sums[x]! - ring[slot + x]!);
      sums[x] = sum;
      out[outOffset + x] = sum / count;
    }
  }
}
