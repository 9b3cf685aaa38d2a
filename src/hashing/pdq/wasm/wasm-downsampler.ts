/**
 * PDQ's Jarosz downsampling to the 64×64 grid on the WebAssembly kernel: the same fused,
 * streaming sweep as `../jarosz-downsample.ts` (rows converted and row-filtered four at a time,
 * a streaming column filter keeping the last `window` rows, a second row filter of which only
 * the 64 sampled columns are kept, and a 64-wide column filter), with the full-width loops run
 * by the kernel in native single precision. The 64-wide last pass is cheap and stays in
 * TypeScript. Working memory lives in the instance's WebAssembly memory, grown on demand to
 * about `(window + 21) × width × 4` bytes plus four rows of pixels.
 */
import type { RawImage } from '../../raw-image.js';
import { boxPhases, ColumnBoxStream, jaroszWindowSize, ROW_BATCH } from '../box-filter.js';
import { decimationIndices, PDQ_GRID } from '../jarosz-downsample.js';
import { fillLumaRow } from '../luminance.js';
import { reserveMemory } from '../../../runtime/wasm/webassembly-api.js';
import { instantiateJaroszKernel, type JaroszKernelExports } from './jarosz-kernel.js';

const ALIGN = 16;

const align = (bytes: number): number => Math.ceil(bytes / ALIGN) * ALIGN;

/** Byte offsets of the working buffers in the kernel's memory for one image size. */
interface Layout {
  readonly rowBytes: number; // one float row, padded to 16 bytes
  readonly pixels: number; // ROW_BATCH rows of source pixels
  readonly luma: number; // ROW_BATCH float rows
  readonly first: number; // ROW_BATCH float rows: after the first row filter
  readonly sums: number; // one float row: running column sums
  readonly ring: number; // `window` float rows: the column filter's window
  readonly second: number; // ROW_BATCH float rows: after the first column filter
  readonly secondOut: number; // ROW_BATCH float rows: after the second row filter
  readonly end: number;
}

function layout(width: number, channels: number, columnWindow: number): Layout {
  const rowBytes = align(width * 4);
  const pixels = 0;
  const luma = align(pixels + ROW_BATCH * width * channels);
  const first = luma + ROW_BATCH * rowBytes;
  const sums = first + ROW_BATCH * rowBytes;
  const ring = sums + rowBytes;
  const second = ring + columnWindow * rowBytes;
  const secondOut = second + ROW_BATCH * rowBytes;
  return { rowBytes, pixels, luma, first, sums, ring, second, secondOut, end: secondOut + ROW_BATCH * rowBytes };
}

export class WasmDownsampler {
  private readonly kernel: JaroszKernelExports = instantiateJaroszKernel();

  /** Fills `out` (64×64, row-major) with the PDQ downsample of `image`'s luminance. */
  downsample(image: RawImage, out: Float32Array): void {
    const { width, height, channels, data } = image;
    if (width === PDQ_GRID && height === PDQ_GRID) {
      for (let y = 0; y < PDQ_GRID; y++) fillLumaRow(image, y, out, y * PDQ_GRID);
      return;
    }
    const k = this.kernel;
    const rowWindow = jaroszWindowSize(width, PDQ_GRID);
    const columnWindow = jaroszWindowSize(height, PDQ_GRID);
    const rowPhases = boxPhases(width, rowWindow);
    const columnPhases = boxPhases(height, columnWindow);
    const at = layout(width, channels, columnWindow);
    reserveMemory(k.memory, at.end);
    const bytes = new Uint8Array(k.memory.buffer);
    const floats = new Float32Array(k.memory.buffer);
    bytes.fill(0, at.sums, at.sums + at.rowBytes);

    const keptColumns = decimationIndices(width);
    const keptRows = decimationIndices(height);
    const reduced = new Float32Array(ROW_BATCH * PDQ_GRID);
    const gridRow = new Float32Array(PDQ_GRID);
    const lastColumns = new ColumnBoxStream(PDQ_GRID, height, columnWindow);
    const rowStride = at.rowBytes / 4;
    let pushed = 0;
    let count = 0;
    let pending = 0;
    let finishedRows = 0;
    let nextKeptRow = 0;

    const keepRow = (): void => {
      while (nextKeptRow < PDQ_GRID && finishedRows === keptRows[nextKeptRow]) {
        out.set(gridRow, nextKeptRow * PDQ_GRID);
        nextKeptRow++;
      }
      finishedRows++;
    };
    const flushSecond = (): void => {
      k.boxRows(at.second, at.secondOut, at.rowBytes, rowPhases.lead, rowPhases.grow, rowPhases.slide, rowPhases.shrink);
      for (let r = 0; r < pending; r++) {
        const base = at.secondOut / 4 + r * rowStride;
        for (let j = 0; j < PDQ_GRID; j++) reduced[r * PDQ_GRID + j] = floats[base + keptColumns[j]!]!;
        if (lastColumns.push(reduced, r * PDQ_GRID, gridRow, 0)) keepRow();
      }
      pending = 0;
    };
    const emitted = (): void => {
      if (++pending === ROW_BATCH) flushSecond();
    };

    const rowBytes = width * channels;
    for (let y = 0; y < height; y += ROW_BATCH) {
      const rows = Math.min(ROW_BATCH, height - y);
      bytes.set(data.subarray(y * rowBytes, (y + rows) * rowBytes), at.pixels);
      for (let r = 0; r < rows; r++) k.luma(at.pixels + r * rowBytes, channels, width, at.luma + r * at.rowBytes);
      k.boxRows(at.luma, at.first, at.rowBytes, rowPhases.lead, rowPhases.grow, rowPhases.slide, rowPhases.shrink);
      for (let r = 0; r < rows; r++) {
        const row = at.first + r * at.rowBytes;
        const index = pushed++;
        const slot = at.ring + (index % columnWindow) * at.rowBytes;
        const target = at.second + pending * at.rowBytes;
        if (index < columnPhases.lead) {
          count++;
          k.column_add(row, at.sums, slot, at.rowBytes);
        } else if (index < columnPhases.lead + columnPhases.grow) {
          count++;
          k.column_addEmit(row, at.sums, slot, target, at.rowBytes, count);
          emitted();
        } else {
          k.column_slide(row, at.sums, slot, target, at.rowBytes, count);
          emitted();
        }
      }
    }
    for (let i = 0; i < columnPhases.shrink; i++) {
      const slot = at.ring + ((pushed - columnWindow + i) % columnWindow) * at.rowBytes;
      count--;
      k.column_shrink(at.sums, slot, at.second + pending * at.rowBytes, at.rowBytes, count);
      emitted();
    }
    if (pending > 0) flushSecond();
    while (lastColumns.pending > 0) {
      lastColumns.flush(gridRow, 0);
      keepRow();
    }
  }
}
