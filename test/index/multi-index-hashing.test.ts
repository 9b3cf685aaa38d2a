// Behaviour specific to the multi-index: which path answers a query (tables, planned scan,
// fallback scan for full buckets), the delta and its merges, rebuilds in a background worker,
// compaction, and m following the size. Exactness itself is the contract suite's.
import { afterEach, describe, expect, it } from 'vitest';
import { LinearScanIndex } from '../../src/index/linear-scan-index.js';
import { DEFAULT_BATCH_SETTINGS } from '../../src/index/mih/batch-table-search.js';
import { DEFAULT_COSTS } from '../../src/index/mih/search-plan.js';
import { MultiIndexHashingIndex } from '../../src/index/multi-index-hashing-index.js';
import { createHammingIndex } from '../../src/index/create-hamming-index.js';
import { BruteForceIndex } from './brute-force-index.js';
import { clusteredHashes, flipBits, mixedQueries, SeededRandom, uniformHash } from './seeded-hashes.js';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((index) => index.close()));
});

function expectExact(index: MultiIndexHashingIndex | LinearScanIndex, model: BruteForceIndex, queries: Uint8Array[], radius: number): void {
  for (const query of queries) expect(index.search(query, radius)).toEqual(model.search(query, radius));
}

describe('MultiIndexHashingIndex', () => {
  it('scans while small, then answers through tables whose m follows the size', () => {
    const random = new SeededRandom(41);
    const index = new MultiIndexHashingIndex({ workers: 0 });
    const small = clusteredHashes(random, 5000, 50);
    index.addMany(small.ids, small.packed);
    index.search(uniformHash(random), 31);
    expect(index.substrings).toBe(0);
    expect(index.searchPaths).toEqual({ tables: 0, plannedScan: 1, fallbackScan: 0 });
    const large = clusteredHashes(random, 60_000, 3000, 10_000);
    index.addMany(large.ids, large.packed);
    expect(index.substrings).toBe(17); // chooseSubstringCount(65 000); 256 / log2(65 000) ≈ 16
    index.search(uniformHash(random), 31);
    expect(index.searchPaths.tables).toBe(1);
    index.search(uniformHash(random), 64); // far too many probes: the scan is cheaper
    expect(index.searchPaths.plannedScan).toBe(2);
  });

  it('falls back to the scan when the probed buckets are far fuller than planned', async () => {
    const random = new SeededRandom(42);
    const index = new MultiIndexHashingIndex({
      workers: 0,
      minTableSize: 0,
      substrings: 16,
      costs: { ...DEFAULT_COSTS, probe: 0, candidate: 1, scannedSlot: 0.05, cachedScannedSlot: 0.05 },
      batch: { ...DEFAULT_BATCH_SETTINGS, minCandidatesPerSlot: 0, minSlots: 0 },
    });
    const set = clusteredHashes(random, 3000, 3);
    const model = new BruteForceIndex();
    index.addMany(set.ids, set.packed);
    model.addMany(set.ids, set.packed);
    expectExact(index, model, [flipBits(random, set.centres[0]!, 4)], 31);
    expect(index.searchPaths.fallbackScan).toBe(1);
    expectExact(index, model, [uniformHash(random)], 31);
    expect(index.searchPaths.tables).toBe(1);
    // A batch searched together decides per query: the full one is scanned, the other goes through the tables.
    const batch = [flipBits(random, set.centres[0]!, 4), uniformHash(random)];
    expect(await index.searchMany(batch, 31)).toEqual(batch.map((query) => model.search(query, 31)));
    expect(index.searchPaths).toEqual({ tables: 2, plannedScan: 0, fallbackScan: 2 });
  });

  it('scans the delta until it is merged', () => {
    const random = new SeededRandom(43);
    const index = new MultiIndexHashingIndex({ workers: 0, minTableSize: 0, substrings: 16, mergeThreshold: 50, strategy: 'tables' });
    const model = new BruteForceIndex();
    const set = clusteredHashes(random, 400, 8);
    index.addMany(set.ids.subarray(0, 300), set.packed.subarray(0, 300 * 32));
    model.addMany(set.ids.subarray(0, 300), set.packed.subarray(0, 300 * 32));
    expect(index.deltaSize).toBe(0);
    for (let i = 300; i < 349; i++) {
      index.add(set.ids[i]!, set.packed.subarray(i * 32, i * 32 + 32));
      model.add(set.ids[i]!, set.packed.subarray(i * 32, i * 32 + 32));
    }
    expect(index.deltaSize).toBe(49);
    expectExact(index, model, mixedQueries(random, set, 10), 31);
    index.add(set.ids[349]!, set.packed.subarray(349 * 32, 350 * 32));
    expect(index.deltaSize).toBe(0);
    expect(index.upkeep.merges).toBe(1);
  });

  it('rebuilds in a background worker while queries stay exact', async () => {
    const random = new SeededRandom(44);
    const index = new MultiIndexHashingIndex({ workers: 0, minTableSize: 1000, mergeThreshold: 100, backgroundBuildFrom: 0, strategy: 'tables' });
    open.push(index);
    const model = new BruteForceIndex();
    const set = clusteredHashes(random, 6000, 60);
    index.addMany(set.ids.subarray(0, 1000), set.packed.subarray(0, 1000 * 32));
    model.addMany(set.ids.subarray(0, 1000), set.packed.subarray(0, 1000 * 32));
    expect(index.substrings).toBe(32); // chooseSubstringCount(1000)
    const queries = mixedQueries(random, set, 8);
    for (let i = 1000; i < 6000; i++) {
      const hash = set.packed.subarray(i * 32, i * 32 + 32);
      index.add(set.ids[i]!, hash);
      model.add(set.ids[i]!, hash);
      if (i % 3 === 0) {
        index.delete(set.ids[i - 700]!);
        model.delete(set.ids[i - 700]!);
      }
      if (i % 250 === 0) {
        expectExact(index, model, queries, 20);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    await index.settle();
    expect(index.upkeep.backgroundBuilds).toBeGreaterThan(0);
    expect(index.substrings).toBeLessThan(32); // rebuilt for a larger size
    expect(index.deltaSize).toBeLessThan(100);
    expectExact(index, model, queries, 31);
  });

  it('compacts once dead slots outnumber live ones, staying exact', () => {
    const random = new SeededRandom(45);
    const index = new MultiIndexHashingIndex({ workers: 0, minTableSize: 0, substrings: 16 });
    const model = new BruteForceIndex();
    const set = clusteredHashes(random, 12_000, 40);
    index.addMany(set.ids, set.packed);
    model.addMany(set.ids, set.packed);
    for (let id = 1; id <= 7000; id++) {
      index.delete(id);
      model.delete(id);
    }
    expect(index.upkeep.compactions).toBe(1);
    expect(index.size).toBe(5000);
    expectExact(index, model, mixedQueries(random, set, 8), 31);
  });
});

describe('LinearScanIndex', () => {
  it('compacts dead slots and stays exact', () => {
    const random = new SeededRandom(46);
    const index = new LinearScanIndex({ workers: 0 });
    const model = new BruteForceIndex();
    const set = clusteredHashes(random, 20_000, 40);
    index.addMany(set.ids, set.packed);
    model.addMany(set.ids, set.packed);
    const before = index.memoryBytes;
    for (let id = 1; id <= 6000; id++) {
      index.delete(id);
      model.delete(id);
    }
    // Without compaction these 4000 slots would not fit the capacity of the first 20 000.
    for (let id = 30_001; id <= 34_000; id++) {
      const hash = flipBits(random, set.centres[id % 40]!, random.below(30));
      index.add(id, hash);
      model.add(id, hash);
    }
    expect(index.memoryBytes).toBeLessThanOrEqual(before);
    expectExact(index, model, mixedQueries(random, set, 8), 31);
  });
});

describe('createHammingIndex', () => {
  it('builds the multi-index by default and the linear scan on request', () => {
    expect(createHammingIndex({ workers: 0 })).toBeInstanceOf(MultiIndexHashingIndex);
    expect(createHammingIndex({ kind: 'linear-scan', workers: 0 })).toBeInstanceOf(LinearScanIndex);
  });
});
