// The HammingIndex contract (SPEC §7, issue 3), run against the linear scan and against the
// multi-index in configurations that exercise each of its paths: the scan below the table size,
// the tables at every radius, uneven and partial substring layouts, the scan fallback for full
// buckets, a delta merged often or never, tables rebuilt in a background worker, searchMany
// batches searched together (forced on small data) or one by one. Every answer is
// compared with a brute-force scan: same ids, same distances, same order.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { HammingIndex } from '../../src/index/hamming-index.js';
import { LinearScanIndex } from '../../src/index/linear-scan-index.js';
import { DEFAULT_BATCH_SETTINGS } from '../../src/index/mih/batch-table-search.js';
import { DEFAULT_COSTS } from '../../src/index/mih/search-plan.js';
import { MultiIndexHashingIndex, type MultiIndexOptions } from '../../src/index/multi-index-hashing-index.js';
import type { IndexThreadOptions } from '../../src/index/stored-hash-index.js';
import { BruteForceIndex } from './brute-force-index.js';
import { clusteredHashes, flipBits, mixedQueries, SeededRandom, toHex, uniformHash } from './seeded-hashes.js';

interface Implementation {
  readonly name: string;
  create(threads?: IndexThreadOptions): HammingIndex;
}

function multiIndex(name: string, options: MultiIndexOptions): Implementation {
  return { name, create: (threads = { workers: 0 }) => new MultiIndexHashingIndex({ ...options, ...threads }) };
}

const IMPLEMENTATIONS: readonly Implementation[] = [
  { name: 'linear scan', create: (threads = { workers: 0 }) => new LinearScanIndex(threads) },
  multiIndex('multi-index with defaults (scans below 8192 hashes)', {}),
  multiIndex('multi-index, m = 16, tables at every radius, delta merged every 7 slots', {
    substrings: 16,
    minTableSize: 0,
    strategy: 'tables',
    mergeThreshold: 7,
  }),
  multiIndex('multi-index, m = 20 (12/13-bit substrings), tables, delta never merged, searchMany batched', {
    substrings: 20,
    minTableSize: 0,
    strategy: 'tables',
    mergeThreshold: 1e9,
    batch: { ...DEFAULT_BATCH_SETTINGS, minCandidatesPerSlot: 0, minSlots: 0 },
  }),
  multiIndex('multi-index, m = 5 of at most 14 bits (186 bits not indexed), tables', {
    substrings: 5,
    maxSubstringBits: 14,
    minTableSize: 0,
    strategy: 'tables',
  }),
  multiIndex('multi-index, m = 16, candidate budget forcing the scan fallback', {
    substrings: 16,
    minTableSize: 0,
    costs: { ...DEFAULT_COSTS, probe: 0, candidate: 1, scannedSlot: 0.05, cachedScannedSlot: 0.05 },
  }),
  multiIndex('multi-index, m = 16, tables, searchMany batched in tiny scratch (many batches, probe groups, pair flushes)', {
    substrings: 16,
    minTableSize: 0,
    strategy: 'tables',
    mergeThreshold: 50,
    batch: { minCandidatesPerSlot: 0, minSlots: 0, batchProbes: 3000, tableProbes: 100, pairs: 64 },
  }),
  multiIndex('multi-index, m following the size from the first hash, rebuilt in a background worker', {
    minTableSize: 0,
    strategy: 'tables',
    mergeThreshold: 5,
    backgroundBuildFrom: 0,
  }),
];

const open: HammingIndex[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((index) => index.close()));
});

function track<T extends HammingIndex>(index: T): T {
  open.push(index);
  return index;
}

function expectSameAnswers(index: HammingIndex, model: BruteForceIndex, queries: readonly Uint8Array[], radii: readonly number[]): void {
  for (const query of queries) {
    for (const radius of radii) {
      const want = model.search(query, radius);
      const got = index.search(query, radius);
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        expect({ query: toHex(query), radius, got }).toEqual({ query: toHex(query), radius, got: want });
      }
    }
  }
}

const ALL_RADII = Array.from({ length: 65 }, (_, r) => r);

describe.each(IMPLEMENTATIONS)('HammingIndex contract: $name', (implementation) => {
  it('answers exactly what a brute-force scan answers at every radius 0–64', () => {
    const random = new SeededRandom(11);
    const set = clusteredHashes(random, 1200, 25);
    const index = track(implementation.create());
    const model = new BruteForceIndex();
    index.addMany(set.ids, set.packed);
    model.addMany(set.ids, set.packed);
    expect(index.size).toBe(1200);
    expectSameAnswers(index, model, mixedQueries(random, set, 9), ALL_RADII);
  });

  it('finds a hash added one by one at the very next search, at every radius', () => {
    const random = new SeededRandom(12);
    const set = clusteredHashes(random, 300, 6);
    const index = track(implementation.create());
    const model = new BruteForceIndex();
    for (let i = 0; i < set.ids.length; i++) {
      const hash = set.packed.subarray(i * 32, i * 32 + 32);
      index.add(set.ids[i]!, hash);
      model.add(set.ids[i]!, hash);
      const near = flipBits(random, hash, random.below(30));
      expect(index.search(near, 29)).toEqual(model.search(near, 29));
      expect(index.search(hash, 0).some((match) => match.id === set.ids[i])).toBe(true);
    }
    expectSameAnswers(index, model, mixedQueries(random, set, 4), ALL_RADII);
  });

  it('returns every id sharing one hash, ordered by id', () => {
    const random = new SeededRandom(13);
    const hash = uniformHash(random);
    const index = track(implementation.create());
    const ids = [907, 3, 4_000_000_000, 55, 1, 0, 2 ** 32 - 1];
    for (const id of ids) index.add(id, hash);
    index.add(70, flipBits(random, hash, 1));
    expect(index.search(hash, 0)).toEqual([...ids].sort((a, b) => a - b).map((id) => ({ id, distance: 0 })));
    expect(index.search(hash, 1).at(-1)).toEqual({ id: 70, distance: 1 });
  });

  it('never returns a deleted id, and delete answers whether the id was present', () => {
    const random = new SeededRandom(14);
    const set = clusteredHashes(random, 900, 10);
    const index = track(implementation.create());
    const model = new BruteForceIndex();
    index.addMany(set.ids, set.packed);
    model.addMany(set.ids, set.packed);
    for (let i = 0; i < 450; i++) {
      const id = set.ids[random.below(set.ids.length)]!;
      expect(index.delete(id)).toBe(model.delete(id));
      expect(index.has(id)).toBe(false);
    }
    expect(index.delete(123_456_789)).toBe(false);
    expect(index.size).toBe(model.hashes.size);
    expectSameAnswers(index, model, mixedQueries(random, set, 6), [0, 5, 10, 20, 31, 45, 64]);
  });

  it('finds a re-added id, and one re-added with another hash only under the new hash', () => {
    const random = new SeededRandom(15);
    const set = clusteredHashes(random, 600, 8);
    const index = track(implementation.create());
    const model = new BruteForceIndex();
    index.addMany(set.ids, set.packed);
    model.addMany(set.ids, set.packed);
    for (const id of set.ids.slice(0, 40)) {
      const old = set.packed.subarray((id - 1) * 32, id * 32);
      const replacement = flipBits(random, old, 20 + random.below(30));
      index.add(id, replacement);
      model.add(id, replacement);
      expect(index.search(old, 0).some((match) => match.id === id)).toBe(false);
      expect(index.search(replacement, 0).some((match) => match.id === id)).toBe(true);
    }
    for (const id of set.ids.slice(40, 80)) {
      index.delete(id);
      model.delete(id);
      const hash = set.packed.subarray((id - 1) * 32, id * 32);
      index.add(id, hash);
      model.add(id, hash);
    }
    index.add(set.ids[100]!, set.packed.subarray(99 * 32, 100 * 32)); // same hash again: no change
    expect(index.size).toBe(model.hashes.size);
    expectSameAnswers(index, model, mixedQueries(random, set, 6), [0, 3, 10, 25, 31, 40, 64]);
  });

  it('answers nothing from an empty index', async () => {
    const index = track(implementation.create());
    const query = uniformHash(new SeededRandom(16));
    expect(index.size).toBe(0);
    expect(index.search(query, 64)).toEqual([]);
    expect(await index.searchMany([query, query], 64)).toEqual([[], []]);
    expect(await index.searchMany([], 10)).toEqual([]);
    index.add(5, query);
    index.delete(5);
    expect(index.search(query, 64)).toEqual([]);
  });

  it('keeps the nearest `limit` matches, ties broken by id', () => {
    const random = new SeededRandom(17);
    const set = clusteredHashes(random, 800, 4);
    const index = track(implementation.create());
    const model = new BruteForceIndex();
    index.addMany(set.ids, set.packed);
    model.addMany(set.ids, set.packed);
    for (const query of mixedQueries(random, set, 6)) {
      for (const limit of [0, 1, 2, 7, 50, 5000]) {
        expect(index.search(query, 40, limit)).toEqual(model.search(query, 40, limit));
        expect(index.search(query, 64, { limit })).toEqual(model.search(query, 64, limit));
      }
    }
  });

  it('applies the filter before the limit', () => {
    const random = new SeededRandom(18);
    const set = clusteredHashes(random, 800, 4);
    const index = track(implementation.create());
    const model = new BruteForceIndex();
    index.addMany(set.ids, set.packed);
    model.addMany(set.ids, set.packed);
    const disputed = (id: number): boolean => id % 3 !== 0;
    for (const query of mixedQueries(random, set, 6)) {
      expect(index.search(query, 35, { limit: 5, filter: disputed })).toEqual(model.search(query, 35, 5, disputed));
      expect(index.search(query, 64, { filter: disputed })).toEqual(model.search(query, 64, Infinity, disputed));
    }
  });

  it('takes hashes as hex in any case or as 32 bytes', () => {
    const random = new SeededRandom(19);
    const hash = uniformHash(random);
    const index = track(implementation.create());
    index.add(1, toHex(hash).toUpperCase());
    index.add(2, hash);
    index.add(3, toHex(flipBits(random, hash, 3)));
    expect(index.search(toHex(hash), 0)).toEqual([
      { id: 1, distance: 0 },
      { id: 2, distance: 0 },
    ]);
    expect(index.search(toHex(hash).toUpperCase(), 3, 10)).toEqual(index.search(hash, 3, 10));
  });

  it('rejects bad input with the project error codes', async () => {
    const index = track(implementation.create());
    const hash = uniformHash(new SeededRandom(20));
    const code = (run: () => unknown): unknown => {
      try {
        run();
      } catch (error) {
        return (error as { code?: unknown }).code;
      }
      return 'no error';
    };
    expect(code(() => index.add(1, toHex(hash).slice(1)))).toBe('ERR_INVALID_HASH');
    expect(code(() => index.add(1, `${toHex(hash).slice(1)}g`))).toBe('ERR_INVALID_HASH');
    expect(code(() => index.add(1, hash.subarray(1)))).toBe('ERR_INVALID_HASH');
    expect(code(() => index.search(new Uint8Array(33), 3))).toBe('ERR_INVALID_HASH');
    expect(code(() => index.addMany(Uint32Array.of(1, 2), new Uint8Array(63)))).toBe('ERR_INVALID_HASH');
    for (const radius of [-1, 65, 1.5, Number.NaN]) expect(code(() => index.search(hash, radius))).toBe('ERR_INVALID_DISTANCE');
    for (const id of [-1, 1.5, 2 ** 32]) expect(code(() => index.add(id, hash))).toBe('ERR_VALIDATION');
    expect(code(() => index.search(hash, 3, -1))).toBe('ERR_VALIDATION');
    await expect(index.searchMany([hash, 'abc'], 3)).rejects.toMatchObject({ code: 'ERR_INVALID_HASH' });
    await expect(index.searchMany([hash], 65)).rejects.toMatchObject({ code: 'ERR_INVALID_DISTANCE' });
    expect(index.size).toBe(0);
  });

  it('matches the PDQ needles against the haystack exactly as the reference CSV', async () => {
    const lines = (file: string): string[] => readFileSync(new URL(`../../fixtures/pdq/${file}`, import.meta.url), 'utf8').trim().split('\n');
    const haystack = lines('haystack.txt');
    const needles = lines('needles.txt');
    const expected = lines('needles-haystack-matches-d31.csv')
      .slice(1)
      .map((row) => row.split(','))
      .map(([needle, , line, , distance]) => `${needle}:${line}:${distance}`)
      .sort();
    const index = track(implementation.create({ workers: 2, inlineBatchNanos: 0 }));
    haystack.forEach((hash, i) => index.add(i + 1, hash));
    const pairs = (answers: { id: number; distance: number }[][]): string[] =>
      answers.flatMap((matches, n) => matches.map((match) => `${n + 1}:${match.id}:${match.distance}`)).sort();
    expect(expected).toHaveLength(250);
    expect(pairs(needles.map((needle) => index.search(needle, 31)))).toEqual(expected);
    expect(pairs(await index.searchMany(needles, 31))).toEqual(expected);
  });

  it('answers searchMany on the workers exactly as search, with limit and filter', async () => {
    const random = new SeededRandom(21);
    const set = clusteredHashes(random, 1500, 12);
    const index = track(implementation.create({ workers: 2, inlineBatchNanos: 0 }));
    index.addMany(set.ids, set.packed);
    const queries = mixedQueries(random, set, 150);
    const packed = new Uint8Array(queries.length * 32);
    queries.forEach((query, i) => packed.set(query, i * 32));
    const odd = (id: number): boolean => id % 2 === 1;
    for (const radius of [0, 10, 31, 64]) {
      expect(await index.searchMany(queries, radius)).toEqual(queries.map((query) => index.search(query, radius)));
      expect(await index.searchMany(packed, radius, 3)).toEqual(queries.map((query) => index.search(query, radius, 3)));
      expect(await index.searchMany(queries.map(toHex), radius, { limit: 4, filter: odd })).toEqual(
        queries.map((query) => index.search(query, radius, { limit: 4, filter: odd })),
      );
    }
    // The workers keep state between batches: it must follow a grown memory and rebuilt tables.
    const more = clusteredHashes(random, 20_000, 12, 100_000);
    index.addMany(more.ids, more.packed);
    for (let id = 1; id <= 1500; id += 2) index.delete(id);
    expect(await index.searchMany(queries, 31)).toEqual(queries.map((query) => index.search(query, 31)));
  });

  it('answers searchMany exactly as brute force at every radius 0–64, inline and on the workers, through shared hashes, deletes, re-adds and a delta', async () => {
    const random = new SeededRandom(25);
    const set = clusteredHashes(random, 1500, 12);
    const model = new BruteForceIndex();
    const inline = track(implementation.create({ workers: 0 }));
    const pooled = track(implementation.create({ workers: 2, inlineBatchNanos: 0 }));
    const everywhere = (change: (index: HammingIndex | BruteForceIndex) => void): void => [model, inline, pooled].forEach(change);
    everywhere((index) => index.addMany(set.ids, set.packed));
    const hashOf = (id: number): Uint8Array => set.packed.subarray((id - 1) * 32, id * 32);
    for (const id of [5001, 5002, 5003]) everywhere((index) => index.add(id, hashOf(7)));
    for (let id = 3; id <= 1500; id += 7) everywhere((index) => index.delete(id));
    for (let id = 10; id <= 400; id += 13) {
      const moved = flipBits(random, hashOf(id), 5 + random.below(30));
      everywhere((index) => index.add(id, moved));
    }
    for (let id = 17; id <= 1500; id += 49) everywhere((index) => index.add(id, hashOf(id)));
    // Added one by one after the bulk load: slots in the delta (or merged, per configuration).
    const later = clusteredHashes(random, 40, 3, 10_000);
    for (let i = 0; i < 40; i++) everywhere((index) => index.add(later.ids[i]!, later.packed.subarray(i * 32, i * 32 + 32)));
    const queries = [...mixedQueries(random, set, 30), ...mixedQueries(random, later, 6), hashOf(7)];
    for (const radius of ALL_RADII) {
      const want = queries.map((query) => model.search(query, radius));
      const inlineAnswers = await inline.searchMany(queries, radius);
      const pooledAnswers = await pooled.searchMany(queries, radius);
      if (JSON.stringify(inlineAnswers) !== JSON.stringify(want)) expect({ radius, inline: inlineAnswers }).toEqual({ radius, inline: want });
      if (JSON.stringify(pooledAnswers) !== JSON.stringify(want)) expect({ radius, pooled: pooledAnswers }).toEqual({ radius, pooled: want });
    }
  });

  it('answers several searchMany batches in flight at once, each exactly, with a change between them', async () => {
    const random = new SeededRandom(23);
    const set = clusteredHashes(random, 1500, 12);
    const model = new BruteForceIndex();
    const pooled = track(implementation.create({ workers: 2, inlineBatchNanos: 0 }));
    for (const index of [model, pooled]) index.addMany(set.ids, set.packed);
    const queries = mixedQueries(random, set, 90);
    // Handed to the workers without waiting for each other: each worker answers them in order.
    const first = [0, 10, 31, 64].map((radius) => ({ radius, answers: pooled.searchMany(queries, radius) }));
    const wantFirst = first.map(({ radius }) => queries.map((query) => model.search(query, radius)));
    for (const [i, batch] of first.entries()) expect(await batch.answers).toEqual(wantFirst[i]);
    const inFlight = pooled.searchMany(queries, 31);
    const moved = flipBits(random, set.packed.subarray(0, 32), 3);
    for (const index of [model, pooled]) index.add(1, moved);
    const after = pooled.searchMany(queries, 31);
    await inFlight; // answered before or after the change; the next batch sees it
    expect(await after).toEqual(queries.map((query) => model.search(query, 31)));
  });

  it('leaves ids deleted or re-hashed while a searchMany batch runs out of its answers', async () => {
    const random = new SeededRandom(22);
    const set = clusteredHashes(random, 1000, 5);
    const index = track(implementation.create({ workers: 2, inlineBatchNanos: 0 }));
    index.addMany(set.ids, set.packed);
    const queries = mixedQueries(random, set, 60);
    const batch = index.searchMany(queries, 40);
    const deleted = new Set<number>();
    for (let id = 1; id <= 1000; id += 3) {
      index.delete(id);
      deleted.add(id);
    }
    for (let id = 2; id <= 1000; id += 9) index.add(id, uniformHash(random));
    const answers = await batch;
    queries.forEach((query, q) => {
      const current = index.search(query, 40);
      const live = new Set(current.map((match) => `${match.id}:${match.distance}`));
      for (const match of answers[q]!) {
        expect(deleted.has(match.id)).toBe(false);
        expect(live.has(`${match.id}:${match.distance}`)).toBe(true);
      }
    });
  });

  it('stays exact through random sequences of adds, deletes and searches', () => {
    const random = new SeededRandom(23);
    const pool = clusteredHashes(random, 400, 4);
    const hashAt = (row: number): Uint8Array => pool.packed.subarray(row * 32, row * 32 + 32);
    const operation = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), id: fc.integer({ min: 0, max: 80 }), row: fc.nat(399) }),
      fc.record({ kind: fc.constant('delete' as const), id: fc.integer({ min: 0, max: 80 }) }),
      fc.record({ kind: fc.constant('bulk' as const), first: fc.integer({ min: 0, max: 80 }), row: fc.nat(399), count: fc.integer({ min: 1, max: 30 }) }),
      fc.record({ kind: fc.constant('search' as const), row: fc.nat(399), flips: fc.nat(40), radius: fc.nat(64), limit: fc.option(fc.nat(6)) }),
    );
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 60 }), (operations) => {
        const index = implementation.create();
        const model = new BruteForceIndex();
        const local = new SeededRandom(operations.length + 1);
        for (const op of operations) {
          if (op.kind === 'add') {
            index.add(op.id, hashAt(op.row));
            model.add(op.id, hashAt(op.row));
          } else if (op.kind === 'delete') {
            expect(index.delete(op.id)).toBe(model.delete(op.id));
          } else if (op.kind === 'bulk') {
            const ids = Uint32Array.from({ length: op.count }, (_, i) => (op.first + i * 7) % 81);
            const packed = new Uint8Array(op.count * 32);
            for (let i = 0; i < op.count; i++) packed.set(hashAt((op.row + i) % 400), i * 32);
            index.addMany(ids, packed);
            model.addMany(ids, packed);
          } else {
            const query = flipBits(local, hashAt(op.row), op.flips);
            const limit = op.limit ?? undefined;
            expect(index.search(query, op.radius, limit)).toEqual(model.search(query, op.radius, limit));
          }
          expect(index.size).toBe(model.hashes.size);
        }
        void index.close();
      }),
      { seed: 20251122, numRuns: 60 },
    );
  });

  it('reports the memory it holds', () => {
    const index = track(implementation.create());
    const empty = index.memoryBytes;
    const set = clusteredHashes(new SeededRandom(24), 20_000, 50);
    index.addMany(set.ids, set.packed);
    expect(index.memoryBytes).toBeGreaterThanOrEqual(empty + 20_000 * 36);
  });
});
