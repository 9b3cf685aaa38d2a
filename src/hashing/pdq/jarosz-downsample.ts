/**
 * PDQ's downsampling of the full-resolution luminance to the 64×64 grid: two passes of a box
 * filter along rows then columns (window ⌈width / 128⌉ along rows, ⌈height / 128⌉ along
 * columns — together a tent filter), then decimation at the centres of a 64×64 grid.
 *
 * The arithmetic equals the reference's pass for pass, but the passes are fused into one
 * streaming sweep from top to bottom: rows' luminance is computed and row-filtered four rows at
 * a time, pushed through the first column filter, row-filtered again (again in fours, keeping
 * only the 64 columns decimation samples), and pushed through the second column filter, whose
 * rows at the 64 sampled positions are the result. The float image is therefore never
 * materialised; working memory is about `width × (window + 12)` floats, and the sweep stays in
 * cache.
 */
import type { RawImage } from '../raw-image.js';
import { boxFilterRows, boxFilterRowsAt, ColumnBoxStream, jaroszWindowSize, ROW_BATCH } from './box-filter.js';
import { fillLumaRow } from './luminance.js';

export const PDQ_GRID = 64;

/** Index of the input sample at the centre of each of the 64 output cells (the reference's rule). */
export function decimationIndices(length: number): Int32Array {
  const indices = new Int32Array(PDQ_GRID);
  for (let i = 0; i < PDQ_GRID; i++) indices[i] = Math.trunc(((i + 0.5) * length) / PDQ_GRID);
  return indices;
}

/** Fills `out` (64×64, row-major) with the PDQ downsample of `image`'s luminance. */
export function downsampleLumaTo64(image: RawImage, out: Float32Array): void {
  const { width, height } = image;
  if (width === PDQ_GRID && height === PDQ_GRID) {
    // The reference takes a 64×64 input as the grid itself, unfiltered.
    for (let y = 0; y < PDQ_GRID; y++) fillLumaRow(image, y, out, y * PDQ_GRID);
    return;
  }
  const rowWindow = jaroszWindowSize(width, PDQ_GRID);
  const columnWindow = jaroszWindowSize(height, PDQ_GRID);
  const keptColumns = decimationIndices(width);
  const keptRows = decimationIndices(height);

  const lumaBatch = new Float32Array(ROW_BATCH * width);
  const firstBatch = new Float32Array(ROW_BATCH * width);
  const secondBatch = new Float32Array(ROW_BATCH * width);
  const reducedBatch = new Float32Array(ROW_BATCH * PDQ_GRID);
  const gridRow = new Float32Array(PDQ_GRID);
  const firstColumns = new ColumnBoxStream(width, height, columnWindow);
  const secondColumns = new ColumnBoxStream(PDQ_GRID, height, columnWindow);
  let secondPending = 0;
  let finishedRows = 0;
  let nextKeptRow = 0;

  const keepRow = (): void => {
    // Several grid rows sample the same input row when the image is less than 64 high.
    while (nextKeptRow < PDQ_GRID && finishedRows === keptRows[nextKeptRow]) {
      out.set(gridRow, nextKeptRow * PDQ_GRID);
      nextKeptRow++;
    }
    finishedRows++;
  };
  const flushSecond = (): void => {
    boxFilterRowsAt(secondBatch, width, rowWindow, keptColumns, reducedBatch);
    for (let r = 0; r < secondPending; r++) {
      if (secondColumns.push(reducedBatch, r * PDQ_GRID, gridRow, 0)) keepRow();
    }
    secondPending = 0;
  };

  for (let y = 0; y < height; y += ROW_BATCH) {
    const rows = Math.min(ROW_BATCH, height - y);
    for (let r = 0; r < rows; r++) fillLumaRow(image, y + r, lumaBatch, r * width);
    boxFilterRows(lumaBatch, firstBatch, width, rowWindow);
    for (let r = 0; r < rows; r++) {
      if (firstColumns.push(firstBatch, r * width, secondBatch, secondPending * width) && ++secondPending === ROW_BATCH) flushSecond();
    }
  }
  while (firstColumns.pending > 0) {
    firstColumns.flush(secondBatch, secondPending * width);
    if (++secondPending === ROW_BATCH) flushSecond();
  }
  if (secondPending > 0) flushSecond();
  while (secondColumns.pending > 0) {
    secondColumns.flush(gridRow, 0);
    keepRow();
  }
}
