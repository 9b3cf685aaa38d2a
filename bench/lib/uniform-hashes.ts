/**
 * Data set (a): uniformly random 256-bit hashes — the easy case for multi-index hashing, every
 * substring bucket about equally full.
 */
import { sequentialIds, type HashSet } from './hash-set.js';
import { queryMix } from './query-mix.js';
import { SeededRandom } from './seeded-random.js';

export function uniformHashes(count: number, seed: number): HashSet {
  const hashes = new Uint8Array(count * 32);
  new SeededRandom(seed).fill(new Uint32Array(hashes.buffer));
  return { name: 'uniform', ids: sequentialIds(count), hashes };
}

export function uniformHash(random: SeededRandom): Uint8Array {
  const hash = new Uint8Array(32);
  random.fill(new Uint32Array(hash.buffer));
  return hash;
}

/** The query mix (`query-mix.ts`) against a uniform set: its misses are fresh uniform hashes. */
export function uniformQueryMix(set: HashSet, count: number, seed: number): Uint8Array {
  return queryMix(set, count, seed, (random, out, offset) => out.set(uniformHash(random), offset));
}
