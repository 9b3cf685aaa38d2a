/**
 * Benchmark queries: half planted near-duplicates of stored hashes (0–40 bits away, flips
 * correlated as in the clustered set), half misses drawn from the data set's own model but not
 * stored (uniform hashes, or fresh centres of the clustered model).
 */
import { flipCorrelatedBits, type HashSet } from './hash-set.js';
import { SeededRandom } from './seeded-random.js';

export function queryMix(set: HashSet, count: number, seed: number, miss: (random: SeededRandom, out: Uint8Array, offset: number) => void): Uint8Array {
  const random = new SeededRandom(seed);
  const queries = new Uint8Array(count * 32);
  const size = set.ids.length;
  for (let q = 0; q < count; q++) {
    if (q % 2 === 0) {
      const row = random.below(size);
      queries.set(set.hashes.subarray(row * 32, row * 32 + 32), q * 32);
      flipCorrelatedBits(random, queries, q * 32, random.below(41));
    } else {
      miss(random, queries, q * 32);
    }
  }
  return queries;
}
