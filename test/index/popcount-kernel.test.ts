// The WebAssembly kernels against a plain byte-wise Hamming distance, over random hashes in a
// shared memory: scan of one query, scan of a block of queries, verification of a slot list and
// of a list of (slot, tagged query) pairs.
import { describe, expect, it } from 'vitest';
import { instantiatePopcountKernel } from '../../src/index/wasm/popcount-kernel.js';
import { webAssembly } from '../../src/runtime/wasm/webassembly-api.js';
import { hammingDistance } from './brute-force-index.js';
import { flipBits, SeededRandom, uniformHash } from './seeded-hashes.js';

const HASHES = 65536;
const SLOTS = 3000;

function setup() {
  const memory = new webAssembly.Memory({ initial: 4, maximum: 16, shared: true });
  const bytes = new Uint8Array(memory.buffer);
  const words = new Uint32Array(memory.buffer);
  const random = new SeededRandom(5);
  const centre = uniformHash(random);
  const stored: Uint8Array[] = [];
  for (let s = 0; s < SLOTS; s++) {
    const hash = flipBits(random, centre, random.below(64));
    bytes.set(hash, HASHES + s * 32);
    stored.push(hash);
  }
  const queries = Array.from({ length: 5 }, () => flipBits(random, centre, random.below(30)));
  return { kernel: instantiatePopcountKernel(memory), bytes, words, stored, queries, random };
}

describe('popcount kernels', () => {
  it('scanOne reports every slot within the radius with its distance', () => {
    const { kernel, bytes, words, stored, queries } = setup();
    for (const query of queries) {
      bytes.set(query, 0);
      for (const radius of [0, 20, 40, 64]) {
        const hits = kernel.scanOne(0, HASHES, 100, SLOTS, radius, 1024);
        const got = Array.from({ length: hits }, (_, i) => [words[256 + 2 * i], words[257 + 2 * i]]);
        const want = stored.flatMap((hash, slot) => (slot >= 100 && hammingDistance(query, hash) <= radius ? [[slot, hammingDistance(query, hash)]] : []));
        expect(got).toEqual(want);
      }
    }
  });

  it('scanBlock compares a block of queries in one pass', () => {
    const { kernel, bytes, words, stored, queries } = setup();
    queries.forEach((query, q) => bytes.set(query, q * 32));
    const hits = kernel.scanBlock(0, queries.length, HASHES, 0, 1000, 30, 1024);
    const got = Array.from({ length: hits }, (_, i) => [words[256 + 2 * i]!, words[257 + 2 * i]! >>> 8, words[257 + 2 * i]! & 0xff]);
    const want = stored.slice(0, 1000).flatMap((hash, slot) => queries.flatMap((query, q) => (hammingDistance(query, hash) <= 30 ? [[slot, q, hammingDistance(query, hash)]] : [])));
    expect(got).toEqual(want);
  });

  it('verify checks the listed slots only', () => {
    const { kernel, bytes, words, stored, queries, random } = setup();
    const slots = Array.from({ length: 500 }, () => random.below(SLOTS));
    slots.forEach((slot, i) => (words[(4096 >>> 2) + i] = slot));
    bytes.set(queries[0]!, 0);
    const hits = kernel.verify(0, HASHES, 4096, slots.length, 25, 16384);
    const got = Array.from({ length: hits }, (_, i) => [words[4096 + 2 * i], words[4097 + 2 * i]]);
    const want = slots.flatMap((slot) => (hammingDistance(queries[0]!, stored[slot]!) <= 25 ? [[slot, hammingDistance(queries[0]!, stored[slot]!)]] : []));
    expect(got).toEqual(want);
  });

  it('verifyPairs checks each listed slot against its own query and echoes the tag', () => {
    const { kernel, bytes, words, stored, queries, random } = setup();
    queries.forEach((query, q) => bytes.set(query, q * 32));
    const pairs = Array.from({ length: 700 }, () => ({ slot: random.below(SLOTS), tag: (random.below(64) << 16) | random.below(queries.length) }));
    pairs.forEach(({ slot, tag }, i) => {
      words[(4096 >>> 2) + 2 * i] = slot;
      words[(4096 >>> 2) + 2 * i + 1] = tag;
    });
    for (const radius of [0, 25, 64]) {
      const hits = kernel.verifyPairs(0, HASHES, 4096, pairs.length, radius, 16384);
      const got = Array.from({ length: hits }, (_, i) => [words[4096 + 2 * i]!, words[4097 + 2 * i]! >>> 8, words[4097 + 2 * i]! & 0xff]);
      const want = pairs.flatMap(({ slot, tag }) => {
        const distance = hammingDistance(queries[tag & 0xffff]!, stored[slot]!);
        return distance <= radius ? [[slot, tag, distance]] : [];
      });
      expect(got).toEqual(want);
    }
  });
});
