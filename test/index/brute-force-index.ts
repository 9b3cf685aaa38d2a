// The reference the contract suite compares every index with: a Map from id to hash bytes and a
// plain byte-by-byte Hamming scan, sharing no code with the implementations under test.
import type { IndexMatch } from '../../src/index/hamming-index.js';
import { BYTE_POPCOUNT } from '../../src/signals/hex.js';

export function hammingDistance(a: Uint8Array, b: Uint8Array): number {
  let distance = 0;
  for (let i = 0; i < 32; i++) distance += BYTE_POPCOUNT[a[i]! ^ b[i]!]!;
  return distance;
}

export class BruteForceIndex {
  readonly hashes = new Map<number, Uint8Array>();

  add(id: number, hash: Uint8Array): void {
    this.hashes.set(id, hash.slice());
  }

  addMany(ids: Uint32Array, packed: Uint8Array): void {
    ids.forEach((id, i) => this.add(id, packed.subarray(i * 32, i * 32 + 32)));
  }

  delete(id: number): boolean {
    return this.hashes.delete(id);
  }

  search(query: Uint8Array, maxDistance: number, limit = Infinity, filter: (id: number) => boolean = () => true): IndexMatch[] {
    const matches: IndexMatch[] = [];
    for (const [id, hash] of this.hashes) {
      const distance = hammingDistance(query, hash);
      if (distance <= maxDistance && filter(id)) matches.push({ id, distance });
    }
    matches.sort((a, b) => a.distance - b.distance || a.id - b.id);
    return matches.slice(0, limit);
  }
}
