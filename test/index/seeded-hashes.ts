// Deterministic test data for the index suites: a seeded xorshift generator, uniform hashes, and
// clustered hashes (a few centres, variants 0–40 bits away, some ids sharing one hash) so that
// every radius from 0 to 64 has answers worth comparing.

export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 1;
  }

  next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state;
  }

  below(n: number): number {
    return this.next() % n;
  }
}

export function uniformHash(random: SeededRandom): Uint8Array {
  const hash = new Uint8Array(32);
  for (let i = 0; i < 32; i++) hash[i] = random.below(256);
  return hash;
}

/** A copy of `hash` with `bits` distinct bits flipped. */
export function flipBits(random: SeededRandom, hash: Uint8Array, bits: number): Uint8Array {
  const out = hash.slice();
  const flipped = new Set<number>();
  while (flipped.size < bits) flipped.add(random.below(256));
  for (const bit of flipped) out[bit >>> 3]! ^= 1 << (bit & 7);
  return out;
}

export interface HashSet {
  readonly ids: Uint32Array;
  readonly packed: Uint8Array;
  readonly centres: readonly Uint8Array[];
}

/** `count` hashes around `centreCount` centres, 0–40 bits away; one in ten repeats an earlier hash. */
export function clusteredHashes(random: SeededRandom, count: number, centreCount: number, firstId = 1): HashSet {
  const centres = Array.from({ length: centreCount }, () => uniformHash(random));
  const ids = new Uint32Array(count);
  const packed = new Uint8Array(count * 32);
  for (let i = 0; i < count; i++) {
    ids[i] = firstId + i;
    if (i > 0 && random.below(10) === 0) {
      const row = random.below(i);
      packed.copyWithin(i * 32, row * 32, row * 32 + 32);
    } else {
      packed.set(flipBits(random, centres[random.below(centreCount)]!, random.below(41)), i * 32);
    }
  }
  return { ids, packed, centres };
}

/** Queries near stored hashes (0–40 bits) and near centres, plus uniform misses. */
export function mixedQueries(random: SeededRandom, set: HashSet, count: number): Uint8Array[] {
  const size = set.ids.length;
  return Array.from({ length: count }, (_, i) => {
    if (i % 3 === 0 && size > 0) {
      const row = random.below(size);
      return flipBits(random, set.packed.subarray(row * 32, row * 32 + 32), random.below(41));
    }
    if (i % 3 === 1 && set.centres.length > 0) return flipBits(random, set.centres[random.below(set.centres.length)]!, random.below(20));
    return uniformHash(random);
  });
}

export function toHex(hash: Uint8Array): string {
  return Buffer.from(hash).toString('hex');
}
