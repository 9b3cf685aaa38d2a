/**
 * The probe masks of a substring table: every `length`-bit mask of weight 0, 1, 2, … in that
 * order, so that the keys within radius r of a query substring k are `k ^ masks[i]` for
 * `i < sizes[r]`. Computed once per length (Gosper's hack per weight) and kept while the ball
 * has at most `MAX_PROBES` masks; a table radius beyond `maxRadius` is answered by the scan.
 */

export const MAX_PROBES = 1 << 16;

export interface ProbeBall {
  readonly masks: Int32Array;
  /** `sizes[r]`: masks of weight ≤ r, for r ≤ maxRadius. */
  readonly sizes: Int32Array;
  readonly maxRadius: number;
}

const balls = new Map<number, ProbeBall>();

function binomial(n: number, k: number): number {
  let result = 1;
  for (let i = 1; i <= k; i++) result = (result * (n - k + i)) / i;
  return Math.round(result);
}

export function probeBall(length: number): ProbeBall {
  const cached = balls.get(length);
  if (cached !== undefined) return cached;
  let maxRadius = 0;
  let total = 1;
  while (maxRadius < length && total + binomial(length, maxRadius + 1) <= MAX_PROBES) total += binomial(length, ++maxRadius);
  const masks = new Int32Array(total);
  const sizes = new Int32Array(maxRadius + 1);
  let n = 0;
  const limit = 2 ** length;
  for (let weight = 0; weight <= maxRadius; weight++) {
    if (weight === 0) masks[n++] = 0;
    else {
      // Gosper's hack: the next larger integer with the same number of set bits.
      for (let mask = 2 ** weight - 1; mask < limit; ) {
        masks[n++] = mask;
        const lowest = mask & -mask;
        const ripple = mask + lowest;
        mask = ripple + Math.floor((ripple ^ mask) / lowest / 4);
      }
    }
    sizes[weight] = n;
  }
  const ball = { masks, sizes, maxRadius };
  balls.set(length, ball);
  return ball;
}
