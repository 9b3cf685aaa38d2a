/**
 * A generated benchmark data set: `count` hashes packed 32 bytes each, with ids 1…count (as
 * SQLite row ids would be), and helpers to flip bits the way near-duplicates differ.
 */
import type { SeededRandom } from './seeded-random.js';

export interface HashSet {
  readonly name: string;
  readonly ids: Uint32Array;
  readonly hashes: Uint8Array;
}

export function sequentialIds(count: number): Uint32Array {
  const ids = new Uint32Array(count);
  for (let i = 0; i < count; i++) ids[i] = i + 1;
  return ids;
}

/** Flips `count` random bits of the 32 bytes at `hashes[offset…]` (a bit may flip twice: fewer net flips). */
export function flipRandomBits(random: SeededRandom, hashes: Uint8Array, offset: number, count: number): void {
  for (let i = 0; i < count; i++) {
    const bit = random.below(256);
    hashes[offset + (bit >>> 3)]! ^= 1 << (bit & 7);
  }
}

/**
 * Flips exactly `count` distinct bits, half of them as one run inside a random 16-bit block —
 * edits of an image move neighbouring DCT coefficients together — and the rest anywhere.
 */
export function flipCorrelatedBits(random: SeededRandom, hashes: Uint8Array, offset: number, count: number): void {
  flipped.fill(0);
  const run = Math.min(16, count >>> 1);
  const runStart = random.below(16) * 16 + random.below(17 - run);
  for (let bit = runStart; bit < runStart + run; bit++) flip(hashes, offset, bit);
  for (let done = run; done < count; ) {
    const bit = random.below(256);
    if ((flipped[bit >>> 5]! >>> (bit & 31)) & 1) continue;
    flip(hashes, offset, bit);
    done++;
  }
}

/** Bits flipped so far by the current `flipCorrelatedBits` call. */
const flipped = new Uint32Array(8);

function flip(hashes: Uint8Array, offset: number, bit: number): void {
  flipped[bit >>> 5]! |= 1 << (bit & 31);
  hashes[offset + (bit >>> 3)]! ^= 1 << (bit & 7);
}
