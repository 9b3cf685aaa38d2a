/**
 * A brute-force HammingIndex for tests: a plain scan over a Map, obviously correct, used as the
 * oracle for the real implementations and to exercise the service while it is simple to reason
 * about.
 */
import type { Hash256, HammingIndex, IndexMatch, SearchOptions } from '../../src/index/hamming-index.js';
import { BYTE_POPCOUNT, hexToBytes } from '../../src/signals/hex.js';

const bytesOf = (hash: Hash256): Uint8Array => (typeof hash === 'string' ? hexToBytes(hash) : hash);

export class BruteForceIndex implements HammingIndex {
  private readonly entries = new Map<number, Uint8Array>();

  get size(): number {
    return this.entries.size;
  }

  get memoryBytes(): number {
    return this.entries.size * 40;
  }

  add(id: number, hash: Hash256): void {
    this.entries.set(id, Uint8Array.from(bytesOf(hash)));
  }

  addMany(ids: Uint32Array, hashes: Uint8Array): void {
    ids.forEach((id, i) => this.add(id, hashes.subarray(i * 32, i * 32 + 32)));
  }

  delete(id: number): boolean {
    return this.entries.delete(id);
  }

  has(id: number): boolean {
    return this.entries.has(id);
  }

  search(hash: Hash256, maxDistance: number, options?: SearchOptions | number): IndexMatch[] {
    const query = bytesOf(hash);
    const { limit, filter } = typeof options === 'number' ? { limit: options, filter: undefined } : (options ?? {});
    const found: IndexMatch[] = [];
    for (const [id, value] of this.entries) {
      let distance = 0;
      for (let i = 0; i < 32; i++) distance += BYTE_POPCOUNT[query[i]! ^ value[i]!]!;
      if (distance <= maxDistance && (!filter || filter(id))) found.push({ id, distance });
    }
    found.sort((a, b) => a.distance - b.distance || a.id - b.id);
    return limit === undefined ? found : found.slice(0, limit);
  }

  async searchMany(hashes: readonly Hash256[] | Uint8Array, maxDistance: number, options?: SearchOptions | number): Promise<IndexMatch[][]> {
    const list = hashes instanceof Uint8Array ? Array.from({ length: hashes.length / 32 }, (_, i) => hashes.subarray(i * 32, i * 32 + 32)) : hashes;
    return list.map((hash) => this.search(hash, maxDistance, options));
  }
}
