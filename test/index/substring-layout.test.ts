// Substring layouts, pigeonhole radii and probe balls of multi-index hashing.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { probeBall } from '../../src/index/mih/probe-ball.js';
import { chooseSubstringCount } from '../../src/index/mih/substring-count.js';
import { evenLayout, probeRadii, substringKey } from '../../src/index/mih/substring-layout.js';
import { popcount32 } from '../../src/index/popcount.js';

describe('substring layout', () => {
  it('splits 256 bits evenly, capping substrings at the maximum length', () => {
    expect(evenLayout(11).lengths).toEqual([24, 24, 24, 23, 23, 23, 23, 23, 23, 23, 23]);
    expect(evenLayout(16).lengths).toEqual(Array(16).fill(16));
    expect(evenLayout(8).lengths).toEqual(Array(8).fill(24));
    expect(evenLayout(5, 14).starts).toEqual([0, 14, 28, 42, 56]);
    expect(() => evenLayout(0)).toThrow(RangeError);
  });

  it('chooses m near 256 / log2 N, the fastest at radius 31 within the offsets budget', () => {
    expect(chooseSubstringCount(10_000_000)).toBe(11);
    expect(chooseSubstringCount(1_000_000)).toBe(13);
    expect(chooseSubstringCount(100_000)).toBe(16);
    expect(chooseSubstringCount(1)).toBe(64);
    expect(chooseSubstringCount(10_000_000, 14)).toBe(19); // ⌈256 / 14⌉: the longest substrings allowed
  });

  it('extracts substrings across word boundaries', () => {
    const words = Uint32Array.of(0x89abcdef, 0x01234567);
    expect(substringKey(words, 0, 28, 8)).toBe(0x78);
    expect(substringKey(words, 0, 0, 24)).toBe(0xabcdef);
    expect(substringKey(words, 0, 40, 24)).toBe(0x012345);
  });

  it('probes radii that catch every hash within the match radius (pigeonhole)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.array(fc.nat(64), { minLength: 64, maxLength: 64 }), (m, parts) => {
        // parts[i] is the distance in substring i; the total is within r exactly when some table's probe finds it.
        const distances = parts.slice(0, m);
        const r = distances.reduce((a, b) => a + b, 0);
        const radii = probeRadii(m, r);
        expect(distances.some((d, i) => d <= radii[i]!)).toBe(true);
        // Tight: substrings each one bit beyond their radius add up to r + 1, so no radius could be smaller.
        expect(Array.from(radii).reduce((sum, radius) => sum + radius + 1, 0)).toBe(r + 1);
      }),
      { seed: 3, numRuns: 300 },
    );
  });

  it('lists every mask of a probe ball once, by weight', () => {
    for (const bits of [4, 13, 16, 23]) {
      const ball = probeBall(bits);
      expect(new Set(ball.masks).size).toBe(ball.masks.length);
      const misplaced: number[] = [];
      let i = 0;
      for (let weight = 0; weight <= ball.maxRadius; weight++) {
        for (; i < ball.sizes[weight]!; i++) if (popcount32(ball.masks[i]!) !== weight || ball.masks[i]! >= 2 ** bits) misplaced.push(i);
      }
      expect(misplaced).toEqual([]);
    }
    expect(Array.from(probeBall(23).sizes)).toEqual([1, 24, 277, 2048, 10903, 44552]);
  });
});
