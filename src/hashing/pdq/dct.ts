/**
 * The part of PDQ's 2-D DCT that the hash uses: coefficients 1…16 × 1…16 of the 64-point
 * DCT-II of the 64×64 grid, as B = D · A · Dᵀ with D the 16×64 matrix
 * D[i][j] = √(2/64) · cos(π/128 · (i+1) · (2j+1)). The matrix is built once, in single
 * precision like the reference's, and both products accumulate in float in the reference's
 * order (k = 0 … 63), so the coefficients are bit-identical to it.
 */
import { PDQ_GRID } from './jarosz-downsample.js';

export const DCT_SIZE = 16;

const DCT_MATRIX: Float32Array = (() => {
  const matrix = new Float32Array(DCT_SIZE * PDQ_GRID);
  const scale = Math.fround(Math.sqrt(2 / PDQ_GRID));
  for (let i = 0; i < DCT_SIZE; i++) {
    for (let j = 0; j < PDQ_GRID; j++) {
      matrix[i * PDQ_GRID + j] = scale * Math.cos((Math.PI / 2 / PDQ_GRID) * (i + 1) * (2 * j + 1));
    }
  }
  return matrix;
})();

/**
 * `out` (16×16) = D · `grid` (64×64) · Dᵀ; `partial` (16×64) is scratch for D · grid.
 * All arrays row-major.
 */
export function dct64To16(grid: Float32Array, partial: Float32Array, out: Float32Array): void {
  const fround = Math.fround;
  const d = DCT_MATRIX;
  for (let i = 0; i < DCT_SIZE; i++) {
    const dRow = i * PDQ_GRID;
    for (let j = 0; j < PDQ_GRID; j++) {
      let sum = 0;
      for (let k = 0; k < PDQ_GRID; k++) sum = fround(sum + fround(d[dRow + k]! * grid[k * PDQ_GRID + j]!));
      partial[i * PDQ_GRID + j] = sum;
    }
  }
  for (let i = 0; i < DCT_SIZE; i++) {
    const pRow = i * PDQ_GRID;
    for (let j = 0; j < DCT_SIZE; j++) {
      const dRow = j * PDQ_GRID;
      let sum = 0;
      for (let k = 0; k < PDQ_GRID; k++) sum = fround(sum + fround(partial[pRow + k]! * d[dRow + k]!));
      out[i * DCT_SIZE + j] = sum;
    }
  }
}
