/**
 * A process's memory sampled through a run, and its growth over a window judged by the trend of
 * every sample in it rather than by two single samples. A server under load holds a garbage-
 * collected heap that the collector grows and shrinks in steps of tens of MiB as the request rate
 * changes, so one sample (at half time, say) can sit at the top or the bottom of a step; a leak is
 * a rise that persists across the window, which a least-squares line through all of it shows.
 */
import { memoryOf, type ProcessMemory } from './process-memory.js';

export interface MemorySample extends ProcessMemory {
  /** Seconds since the run started. */
  readonly t: number;
}

export function sampleMemory(pid: number, t: number): MemorySample {
  return { t, ...memoryOf(pid) };
}

export interface TrendGrowth {
  /** The fitted line's value at the window's start and end, in bytes. */
  readonly fromBytes: number;
  readonly toBytes: number;
  /** toBytes / fromBytes - 1 (0 when both are 0). */
  readonly growth: number;
  readonly samples: number;
}

/** Growth over [from, to] of the least-squares line through the samples taken within it. */
export function trendGrowth(samples: readonly MemorySample[], from: number, to: number, bytesOf: (sample: MemorySample) => number): TrendGrowth {
  const window = samples.filter((sample) => sample.t >= from && sample.t <= to);
  if (window.length < 2) throw new Error(`a trend needs two samples between ${from} s and ${to} s, got ${window.length}`);
  const meanT = window.reduce((sum, sample) => sum + sample.t, 0) / window.length;
  const meanBytes = window.reduce((sum, sample) => sum + bytesOf(sample), 0) / window.length;
  let covariance = 0;
  let variance = 0;
  for (const sample of window) {
    covariance += (sample.t - meanT) * (bytesOf(sample) - meanBytes);
    variance += (sample.t - meanT) ** 2;
  }
  const slope = variance === 0 ? 0 : covariance / variance;
  const fromBytes = meanBytes + slope * (from - meanT);
  const toBytes = meanBytes + slope * (to - meanT);
  // A part that stays empty (no shared memory, say) has not grown.
  const growth = fromBytes === 0 && toBytes === 0 ? 0 : toBytes / fromBytes - 1;
  return { fromBytes, toBytes, growth, samples: window.length };
}
