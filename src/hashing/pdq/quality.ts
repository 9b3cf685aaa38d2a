/**
 * PDQ's quality score (0–100): the sum of the absolute vertical and horizontal differences
 * between neighbours of the 64×64 grid, each first scaled to percent of full range and
 * truncated to an integer (so only significant gradients count), divided by 90 and capped at
 * 100 — the reference's heuristic, in its float-then-int arithmetic. Featureless images score
 * low; the bank rejects scores below 50.
 */
import { PDQ_GRID } from './jarosz-downsample.js';

function gradientPercent(u: number, v: number): number {
  const fround = Math.fround;
  return Math.abs(Math.trunc(fround(fround(fround(u - v) * 100) / 255)));
}

export function pdqQuality(grid: Float32Array): number {
  let gradientSum = 0;
  for (let i = 0; i < PDQ_GRID - 1; i++) {
    for (let j = 0; j < PDQ_GRID; j++) {
      gradientSum += gradientPercent(grid[i * PDQ_GRID + j]!, grid[(i + 1) * PDQ_GRID + j]!);
    }
  }
  for (let i = 0; i < PDQ_GRID; i++) {
    for (let j = 0; j < PDQ_GRID - 1; j++) {
      gradientSum += gradientPercent(grid[i * PDQ_GRID + j]!, grid[i * PDQ_GRID + j + 1]!);
    }
  }
  return Math.min(100, Math.trunc(gradientSum / 90));
}
