/**
 * Data set (b): hashes shaped like a real bank of perceptual hashes rather than like noise.
 * - Correlated bit blocks: each centre is 16 blocks of 16 bits; a block is, with probability
 *   `sharedBlockShare`, one of `vocabulary` patterns shared by all centres and picked with a
 *   Zipf-like skew (common image structures), otherwise random. Substring buckets are therefore
 *   unevenly full, some of them very full.
 * - Near-duplicate clusters: `centres` centres (default 1 per 100 hashes, so 100 000 at 10 M),
 *   each hash a variant 0–40 bits from its centre, half of the flips as one run in a block.
 *   Cluster sizes are skewed too (Zipf `clusterSkew`): a few viral images have thousands of
 *   variants (about 16 000 for the largest of 100 000 centres), most have a few dozen.
 * - Exact duplicates: `duplicateShare` (1 %) of the rows repeat an earlier row's hash.
 */
import { flipCorrelatedBits, sequentialIds, type HashSet } from './hash-set.js';
import { SeededRandom } from './seeded-random.js';

export interface ClusterModel {
  readonly centres: number;
  readonly maxVariantBits: number;
  readonly duplicateShare: number;
  readonly sharedBlockShare: number;
  readonly vocabulary: number;
  /** Zipf exponent of the pattern popularity. */
  readonly skew: number;
  /** Zipf exponent of the cluster sizes. */
  readonly clusterSkew: number;
}

export function defaultClusterModel(count: number): ClusterModel {
  return { centres: Math.max(1000, Math.round(count / 100)), maxVariantBits: 40, duplicateShare: 0.01, sharedBlockShare: 0.25, vocabulary: 1024, skew: 0.7, clusterSkew: 0.5 };
}

/** Picks 0…n−1 with probability ∝ 1 / (i + 1)^skew. */
export class ZipfChoice {
  private readonly cumulative: Float64Array;

  constructor(n: number, skew: number) {
    this.cumulative = new Float64Array(n);
    let sum = 0;
    for (let i = 0; i < n; i++) this.cumulative[i] = sum += 1 / (i + 1) ** skew;
    for (let i = 0; i < n; i++) this.cumulative[i]! /= sum;
  }

  pick(random: SeededRandom): number {
    const u = random.unit();
    let low = 0;
    let high = this.cumulative.length - 1;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.cumulative[mid]! < u) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}

/** Draws centres from the block model. */
export class CentreModel {
  private readonly patterns: Uint16Array;
  private readonly popularity: ZipfChoice;

  constructor(
    private readonly model: ClusterModel,
    seed: number,
  ) {
    const random = new SeededRandom(seed);
    this.patterns = new Uint16Array(16 * model.vocabulary);
    for (let i = 0; i < this.patterns.length; i++) this.patterns[i] = random.below(65536);
    this.popularity = new ZipfChoice(model.vocabulary, model.skew);
  }

  /** Writes a new centre at `out[offset…]`. */
  centre(random: SeededRandom, out: Uint8Array, offset: number): void {
    for (let block = 0; block < 16; block++) {
      const shared = random.unit() < this.model.sharedBlockShare;
      const value = shared ? this.patterns[block * this.model.vocabulary + this.popularity.pick(random)]! : random.below(65536);
      out[offset + 2 * block] = value & 0xff;
      out[offset + 2 * block + 1] = value >>> 8;
    }
  }
}

/** The centre model of the data set made with `seed`: the same shared block patterns. */
export function centreModelFor(seed: number, model: ClusterModel): CentreModel {
  return new CentreModel(model, seed ^ 0x5bd1e995);
}

export function clusteredHashes(count: number, seed: number, model: ClusterModel = defaultClusterModel(count)): HashSet {
  const random = new SeededRandom(seed);
  const centres = centreModelFor(seed, model);
  const centreHashes = new Uint8Array(model.centres * 32);
  for (let c = 0; c < model.centres; c++) centres.centre(random, centreHashes, c * 32);
  const clusterSizes = new ZipfChoice(model.centres, model.clusterSkew);
  const hashes = new Uint8Array(count * 32);
  for (let i = 0; i < count; i++) {
    if (i > 0 && random.unit() < model.duplicateShare) {
      const row = random.below(i);
      hashes.copyWithin(i * 32, row * 32, row * 32 + 32);
      continue;
    }
    const c = clusterSizes.pick(random);
    hashes.set(centreHashes.subarray(c * 32, c * 32 + 32), i * 32);
    flipCorrelatedBits(random, hashes, i * 32, random.below(model.maxVariantBits + 1));
  }
  return { name: 'clustered', ids: sequentialIds(count), hashes };
}
