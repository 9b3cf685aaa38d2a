/**
 * The stress run's memory measures (bench/lib): the /proc reader's parts add up to the total, the
 * trend, the peaks and the troughs over a window follow a persistent rise but not a sawtooth's phase.
 */
import { describe, expect, it } from 'vitest';
import { peakGrowth, troughGrowth, trendGrowth, type MemorySample } from '../../bench/lib/memory-trend.js';
import { memoryOf } from '../../bench/lib/process-memory.js';

const MIB = 2 ** 20;
const series = (values: readonly number[]): MemorySample[] =>
  values.map((mib, t) => ({ t, rssBytes: mib * MIB, peakRssBytes: 0, anonBytes: mib * MIB, fileBytes: 0, shmemBytes: 0 }));

describe('process memory', () => {
  it('reads RssAnon, RssFile and RssShmem, which add up to VmRSS', () => {
    const memory = memoryOf(process.pid);
    expect(memory.anonBytes).toBeGreaterThan(0);
    expect(memory.fileBytes).toBeGreaterThan(0);
    expect(memory.anonBytes + memory.fileBytes + memory.shmemBytes).toBe(memory.rssBytes);
    expect(memory.peakRssBytes).toBeGreaterThanOrEqual(memory.rssBytes);
  });

  it('answers zeros for a process that is gone', () => {
    expect(memoryOf(2 ** 22 + 1)).toEqual({ rssBytes: 0, peakRssBytes: 0, anonBytes: 0, fileBytes: 0, shmemBytes: 0 });
  });
});

describe('trendGrowth', () => {
  const anon = (sample: MemorySample) => sample.anonBytes;

  it('is the growth of a steady rise over the window', () => {
    const growth = trendGrowth(series(Array.from({ length: 61 }, (_, t) => 400 + t)), 30, 60, anon);
    expect(growth.samples).toBe(31);
    expect(growth.fromBytes / MIB).toBeCloseTo(430, 6);
    expect(growth.toBytes / MIB).toBeCloseTo(460, 6);
    expect(growth.growth).toBeCloseTo(30 / 430, 6);
  });

  it('is about zero for a level that steps up and down, whatever the sample at the window start', () => {
    // 400 MiB with 40 MiB steps, the window opening at the bottom of a dip.
    const values = Array.from({ length: 61 }, (_, t) => (t >= 25 && t <= 30 ? 360 : 400 + (t % 8 < 4 ? 0 : 40)));
    const growth = trendGrowth(series(values), 30, 60, anon);
    expect(Math.abs(growth.growth)).toBeLessThan(0.03);
    expect(Math.max(...values.slice(30)) / values[30]! - 1).toBeGreaterThan(0.2);
  });

  it('is zero for a part that stays empty', () => {
    expect(trendGrowth(series([0, 0, 0]), 0, 2, anon).growth).toBe(0);
  });

  it('needs two samples in the window', () => {
    expect(() => trendGrowth(series([400, 410]), 5, 10, anon)).toThrow(/two samples/);
  });
});

describe('peakGrowth', () => {
  const anon = (sample: MemorySample) => sample.anonBytes;

  it('compares the tooth tops of a sawtooth, not the sample at half time', () => {
    // Rises 10 MiB a second for 6 s, then drops back: the same teeth throughout, no growth.
    const values = Array.from({ length: 61 }, (_, t) => 350 + 10 * (t % 7));
    const growth = peakGrowth(series(values), 5, 30, 60, anon);
    expect(growth.earlierPeakBytes / MIB).toBe(410);
    expect(growth.laterPeakBytes / MIB).toBe(410);
    expect(growth.growth).toBe(0);
  });

  it('sees a leak that lifts the later teeth', () => {
    const values = Array.from({ length: 61 }, (_, t) => 350 + 10 * (t % 7) + 2 * t);
    expect(peakGrowth(series(values), 5, 30, 60, anon).growth).toBeGreaterThan(0.1);
  });

  it('leaves out the samples before the window', () => {
    const values = [900, ...Array.from({ length: 60 }, () => 400)];
    expect(peakGrowth(series(values), 5, 30, 60, anon).growth).toBe(0);
  });
});

describe('troughGrowth', () => {
  const anon = (sample: MemorySample) => sample.anonBytes;

  it('compares the lowest samples: garbage that piles up higher before one collection is not growth', () => {
    // Teeth of varying height over the same floor: the later half's one tall tooth (+15 % at its top) moves the peaks, not the troughs.
    const values = Array.from({ length: 61 }, (_, t) => 350 + (t % 7) * (t >= 42 && t < 49 ? 20 : 10));
    expect(peakGrowth(series(values), 5, 30, 60, anon).growth).toBeGreaterThan(0.1);
    const growth = troughGrowth(series(values), 5, 30, 60, anon);
    expect([growth.earlierTroughBytes / MIB, growth.laterTroughBytes / MIB, growth.growth]).toEqual([350, 350, 0]);
  });

  it('sees memory kept from tooth to tooth (a ratchet), which the tops can hide', () => {
    // The floor rises 2 MiB a second while the teeth shrink, so that the later tops are no higher.
    const values = Array.from({ length: 61 }, (_, t) => 330 + 2 * t + (t % 7) * (t < 30 ? 12 : 2));
    expect(peakGrowth(series(values), 5, 30, 60, anon).growth).toBeLessThan(0.1);
    expect(troughGrowth(series(values), 5, 30, 60, anon).growth).toBeGreaterThan(0.1);
  });

  it('needs samples in both halves', () => {
    expect(() => troughGrowth(series([400, 410]), 5, 30, 60, anon)).toThrow(/no memory sample/);
  });
});
