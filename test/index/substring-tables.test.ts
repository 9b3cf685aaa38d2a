// The compact CSR tables: every bucket lists exactly the live slots whose substring has that
// key, in slot order; a merge equals a build from scratch; full groups spill; postings pack.
import { describe, expect, it } from 'vitest';
import { HashStore } from '../../src/index/hash-store.js';
import { allocatePostingLists, postingAt, setPosting, type PostingList } from '../../src/index/mih/posting-list.js';
import { evenLayout, substringKey, type SubstringLayout } from '../../src/index/mih/substring-layout.js';
import { bucketStart, buildTables, mergeTables, type TableSet } from '../../src/index/mih/substring-tables.js';
import { clusteredHashes, SeededRandom } from './seeded-hashes.js';

function source(store: HashStore) {
  return { words: store.words, hashesWord: store.hashes >>> 2, deadBits: store.deadBits };
}

/** Every bucket of every table, read through the compact bounds. */
function buckets(set: TableSet): number[][][] {
  const bounds = new Int32Array(1);
  return set.tables.map((table, t) => {
    const keys = 2 ** set.layout.lengths[t]!;
    return Array.from({ length: keys }, (_, key) => {
      const start = bucketStart(table, key, bounds);
      return Array.from({ length: bounds[0]! - start }, (_, i) => postingAt(table.postings, start + i));
    });
  });
}

/** What the buckets must hold: the included slots below `slotEnd` (live ones by default), by key, ascending. */
function expectedBuckets(store: HashStore, layout: SubstringLayout, slotEnd: number, included = (slot: number) => !store.isDead(slot)): number[][][] {
  return layout.lengths.map((bits, t) => {
    const lists: number[][] = Array.from({ length: 2 ** bits }, () => []);
    for (let slot = 0; slot < slotEnd; slot++) {
      if (included(slot)) lists[substringKey(store.words, (store.hashes >>> 2) + slot * 8, layout.starts[t]!, bits)]!.push(slot);
    }
    return lists;
  });
}

describe('substring tables', () => {
  const layout = evenLayout(21, 12); // 12- and 13-bit substrings, ≥ 8192 keys each

  it('build lists every live slot under its key, in slot order', () => {
    const store = new HashStore(1);
    const set = clusteredHashes(new SeededRandom(31), 3000, 20);
    store.appendMany(set.ids, set.packed);
    for (let id = 1; id <= 3000; id += 5) store.remove(id);
    const tables = buildTables(layout, source(store), store.slotCount);
    expect(tables.postingCount).toBe(store.size);
    expect(buckets(tables)).toEqual(expectedBuckets(store, layout, store.slotCount));
  });

  it('merge adds the live new slots and keeps the postings of slots that died since', () => {
    const store = new HashStore(1);
    const random = new SeededRandom(32);
    const first = clusteredHashes(random, 2000, 10);
    store.appendMany(first.ids, first.packed);
    for (let id = 3; id <= 2000; id += 11) store.remove(id);
    const before = buildTables(layout, source(store), store.slotCount);
    const indexed = new Set(Array.from({ length: 2000 }, (_, slot) => slot).filter((slot) => !store.isDead(slot)));
    const more = clusteredHashes(random, 700, 10, 5000);
    store.appendMany(more.ids, more.packed);
    for (let id = 2; id <= 2000; id += 7) store.remove(id);
    for (let id = 5000; id < 5700; id += 9) store.remove(id);
    store.append(4, more.packed, 0); // re-hashed: its old slot dies, the new one joins the delta
    const merged = mergeTables(before, source(store), store.slotCount);
    const included = (slot: number): boolean => (slot < 2000 ? indexed.has(slot) : !store.isDead(slot));
    expect(buckets(merged)).toEqual(expectedBuckets(store, layout, store.slotCount, included));
    expect(merged.postingCount).toBe(indexed.size + store.slotCount - 2000 - Array.from({ length: store.slotCount - 2000 }, (_, i) => store.isDead(2000 + i)).filter(Boolean).length);
  });

  it('merge spills a group that outgrows 255 postings, and keeps spilled groups', () => {
    const store = new HashStore(1);
    const set = clusteredHashes(new SeededRandom(34), 1200, 1);
    for (let i = 0; i < 300; i++) set.packed.copyWithin(i * 32, 0, 32);
    store.appendMany(set.ids.subarray(0, 150), set.packed.subarray(0, 150 * 32)); // 150 copies of one hash
    const before = buildTables(layout, source(store), store.slotCount);
    expect(before.tables.some((table) => table.groupStart.some((start) => start < 0))).toBe(false);
    store.appendMany(set.ids.subarray(150, 800), set.packed.subarray(150 * 32, 800 * 32));
    const once = mergeTables(before, source(store), store.slotCount);
    store.appendMany(set.ids.subarray(800), set.packed.subarray(800 * 32));
    const twice = mergeTables(once, source(store), store.slotCount);
    expect(once.tables.every((table) => table.groupStart.some((start) => start < 0))).toBe(true);
    expect(buckets(twice)).toEqual(expectedBuckets(store, layout, store.slotCount));
  });

  it('spills a group of keys holding more than 255 postings', () => {
    const store = new HashStore(1);
    const set = clusteredHashes(new SeededRandom(33), 1000, 1);
    for (let i = 0; i < 600; i++) set.packed.copyWithin(i * 32, 0, 32); // 600 ids share one hash
    store.appendMany(set.ids, set.packed);
    const tables = buildTables(layout, source(store), store.slotCount);
    expect(tables.tables.every((table) => table.spill.length > 0 && table.groupStart.some((start) => start < 0))).toBe(true);
    expect(buckets(tables)).toEqual(expectedBuckets(store, layout, store.slotCount));
  });

  it('packs postings in 3 bytes below 2^24 slots and 4 bytes beyond', () => {
    const [narrow] = allocatePostingLists(1, 3, 2 ** 24) as [PostingList];
    const [wide] = allocatePostingLists(1, 3, 2 ** 24 + 1) as [PostingList];
    expect([narrow.width, narrow.bytes.byteLength, wide.width, wide.bytes.byteLength]).toEqual([3, 9, 4, 12]);
    [0, 2 ** 24 - 1, 123_456].forEach((slot, i) => setPosting(narrow, i, slot));
    [0, 2 ** 27 - 1, 2 ** 24].forEach((slot, i) => setPosting(wide, i, slot));
    expect([0, 1, 2].map((i) => postingAt(narrow, i))).toEqual([0, 2 ** 24 - 1, 123_456]);
    expect([0, 1, 2].map((i) => postingAt(wide, i))).toEqual([0, 2 ** 27 - 1, 2 ** 24]);
  });

  it('allocates the lists of a set as disjoint slices of one buffer, 4-byte lists on word boundaries', () => {
    for (const slotLimit of [2 ** 24, 2 ** 24 + 1]) {
      const lists = allocatePostingLists(3, 5, slotLimit);
      expect(new Set(lists.map((list) => list.bytes.buffer)).size).toBe(1);
      lists.forEach((list, i) => {
        for (let p = 0; p < 5; p++) setPosting(list, p, 1000 * i + p);
      });
      expect(lists.map((list) => Array.from({ length: 5 }, (_, p) => postingAt(list, p)))).toEqual([0, 1, 2].map((i) => [0, 1, 2, 3, 4].map((p) => 1000 * i + p)));
    }
  });

  // One buffer per generation of lists, not one per table: m buffers of a few MiB each are carved
  // out of glibc's main heap once its mmap threshold has risen, and stay resident there when freed
  // (test/reliability/index-heap.test.ts measures that).
  it('keeps the postings of all tables in one buffer after a build and after a merge that outgrows their room', () => {
    const store = new HashStore(1);
    const set = clusteredHashes(new SeededRandom(35), 3000, 10);
    store.appendMany(set.ids.subarray(0, 1000), set.packed.subarray(0, 1000 * 32));
    const built = buildTables(layout, source(store), store.slotCount);
    store.appendMany(set.ids.subarray(1000), set.packed.subarray(1000 * 32));
    const merged = mergeTables(built, source(store), store.slotCount);
    const buffersOf = (tables: TableSet) => new Set(tables.tables.map((table) => table.postings.bytes.buffer));
    expect(merged.tables[0]!.postings.capacity).toBeGreaterThan(built.tables[0]!.postings.capacity); // moved, not merged in place
    expect([buffersOf(built).size, buffersOf(merged).size]).toEqual([1, 1]);
    expect(buckets(merged)).toEqual(expectedBuckets(store, layout, store.slotCount));
  });

  it('leaves 1/64 of the postings spare after a build and 1/16 after a merge that outgrows them, so that the next merges fit in place', () => {
    const store = new HashStore(1);
    const set = clusteredHashes(new SeededRandom(36), 200_000, 40);
    store.appendMany(set.ids.subarray(0, 100_000), set.packed.subarray(0, 100_000 * 32));
    const built = buildTables(layout, source(store), store.slotCount);
    expect(built.tables[0]!.postings.capacity).toBe(built.postingCount + Math.ceil(built.postingCount / 64));
    store.appendMany(set.ids.subarray(100_000, 110_000), set.packed.subarray(100_000 * 32, 110_000 * 32));
    const grown = mergeTables(built, source(store), store.slotCount);
    expect(grown.tables[0]!.postings.capacity).toBe(grown.postingCount + Math.ceil(grown.postingCount / 16));
    // 6,000 more fit in the room left: merged in place, the same lists.
    store.appendMany(set.ids.subarray(110_000, 116_000), set.packed.subarray(110_000 * 32, 116_000 * 32));
    const inPlace = mergeTables(grown, source(store), store.slotCount);
    expect(inPlace.tables[0]!.postings).toBe(grown.tables[0]!.postings);
    expect(buckets(inPlace)).toEqual(expectedBuckets(store, layout, store.slotCount));
  });
});
