/**
 * A process's memory sampled through a run, and two measures of its growth that do not rest on a
 * single sample. A server under load frees memory in steps of tens of MiB (superseded index
 * tables, garbage collections), so its memory is a sawtooth and one sample (at half time, say) can
 * sit at a tooth's top or bottom. `peakGrowth` compares the highest sample of a later window with
 * the highest of an earlier one (tooth tops with tooth tops); `troughGrowth` the lowest with the
 * lowest (what the process holds once its collections have run); `trendGrowth` fits a
 * least-squares line through every sample of a window. A leak raises all three. The tops also
 * carry garbage not yet collected (tens of MiB, more or less depending on where the collections
 * fall), so that they move by ±10 % between runs of the same code; the troughs do not.
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

const ratio = (to: number, from: number): number => (from === 0 && to === 0 ? 0 : to / from - 1);

export interface PeakGrowth {
  /** The highest sample in [from, middle) and in [middle, to], in bytes. */
  readonly earlierPeakBytes: number;
  readonly laterPeakBytes: number;
  /** laterPeakBytes / earlierPeakBytes - 1 (0 when both are 0). */
  readonly growth: number;
}

export interface TroughGrowth {
  /** The lowest sample in [from, middle) and in [middle, to], in bytes. */
  readonly earlierTroughBytes: number;
  readonly laterTroughBytes: number;
  /** laterTroughBytes / earlierTroughBytes - 1 (0 when both are 0). */
  readonly growth: number;
}

/** The samples of [from, middle) and of [middle, to], each window non-empty. */
function halves(samples: readonly MemorySample[], from: number, middle: number, to: number): [MemorySample[], MemorySample[]] {
  const earlier = samples.filter((sample) => sample.t >= from && sample.t < middle);
  const later = samples.filter((sample) => sample.t >= middle && sample.t <= to);
  if (earlier.length === 0 || later.length === 0) throw new Error(`no memory sample between ${from} s and ${middle} s or between ${middle} s and ${to} s`);
  return [earlier, later];
}

/** The highest sample in [middle, to] against the highest in [from, middle). */
export function peakGrowth(samples: readonly MemorySample[], from: number, middle: number, to: number, bytesOf: (sample: MemorySample) => number): PeakGrowth {
  const [earlier, later] = halves(samples, from, middle, to);
  const peakOf = (window: readonly MemorySample[]): number => window.reduce((peak, sample) => Math.max(peak, bytesOf(sample)), 0);
  const earlierPeakBytes = peakOf(earlier);
  const laterPeakBytes = peakOf(later);
  return { earlierPeakBytes, laterPeakBytes, growth: ratio(laterPeakBytes, earlierPeakBytes) };
}

/** The lowest sample in [middle, to] against the lowest in [from, middle). */
export function troughGrowth(samples: readonly MemorySample[], from: number, middle: number, to: number, bytesOf: (sample: MemorySample) => number): TroughGrowth {
  const [earlier, later] = halves(samples, from, middle, to);
  const troughOf = (window: readonly MemorySample[]): number => window.reduce((trough, sample) => Math.min(trough, bytesOf(sample)), Number.POSITIVE_INFINITY);
  const earlierTroughBytes = troughOf(earlier);
  const laterTroughBytes = troughOf(later);
  return { earlierTroughBytes, laterTroughBytes, growth: ratio(laterTroughBytes, earlierTroughBytes) };
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
  return { fromBytes, toBytes, growth: ratio(toBytes, fromBytes), samples: window.length };
}
