/**
 * A block of multi-index queries answered together (`searchMany`): the same probes, candidates
 * and verification as `table-search.ts`, reordered so that memory is walked in address order
 * instead of at random. One query alone touches ~1400 random buckets and ~1400 random hashes at
 * 1 M hashes (r = 31); each access is a cache and TLB miss, so a query is latency bound. For a
 * block of queries:
 *
 * 1. per table, every probe of every query is partitioned by the key's high bits (a counting
 *    sort), so that the bucket bounds are read page by page; the non-empty buckets are recorded
 *    as ranges with their query, and each query's candidates are counted;
 * 2. a query whose buckets hold more candidates than the plan's budget is scanned instead, as in
 *    `table-search.ts`;
 * 3. the postings of the ranges are read (in key order, so the posting arrays too are read in
 *    order) into `(slot, query)` pairs, which are partitioned by slot, so that the hashes are read
 *    in slot order by the WebAssembly kernel that verifies the pairs.
 *
 * A slot found by several tables for one query is verified more than once; as in
 * `table-search.ts`, a hit found in table t is kept only if no earlier table's probe also reaches
 * it (each pair carries its table in the kernel's tag). Slots added since the tables were built
 * (the delta) are scanned for every query.
 */
import type { MatchCollector } from '../match-collector.js';
import { CANDIDATE_CAPACITY, LANE_QUERIES, type Lane } from '../memory-lanes.js';
import { scanSlots } from '../slot-scan.js';
import type { SearchPlan } from './search-plan.js';
import { popcount32 } from '../popcount.js';
import { substringKey } from './substring-layout.js';
import { bucketStart, type TableSet } from './substring-tables.js';
import type { TableSearchTarget } from './table-search.js';

/** Probes are partitioned by key / 2^12: one partition covers a 4 KiB page of `keyEnd`. */
const KEY_PAGE_BITS = 6;
/** Pairs are partitioned by slot into at most this many partitions (at least 128 slots, a 4 KiB page of hashes, each). */
const MAX_SLOT_PARTITIONS = 1 << 16;
const MIN_SLOT_PAGE_BITS = 1;
/** Pairs handed to one `verifyPairs` call: two u32 each in the lane's candidate area. */
const PAIRS_PER_CALL = CANDIDATE_CAPACITY >>> 1;

/**
 * When a batch is searched together, and the bounds on a thread's scratch (the defaults hold
 * ~1000 queries of r = 31 at 1–10 M hashes).
 */
export interface BatchSettings {
  /**
   * Batches are searched together only when their expected candidates number at least this many
   * per indexed slot: sorting pays when the hashes are read densely. Measured (r = 31, 2 workers,
   * batches of 500–1000 against one by one): 1 M hashes, ~0.7–1.4 per slot, 1.4–1.6× faster;
   * 10 M, ~0.25 per slot, 0.73× (slower); r = 10, ~0.01 per slot, 0.4–0.8×.
   */
  readonly minCandidatesPerSlot: number;
  /** …and only over at least this many indexed slots (below, the hashes fit the cache: 100 k is 3.2 MB). */
  readonly minSlots: number;
  /** Probes one batch may make in all (its size is chosen so that all its bucket ranges fit). */
  readonly batchProbes: number;
  /** Probes of one table partitioned at once; a batch whose probes exceed it is split. */
  readonly tableProbes: number;
  /** Pairs gathered before they are sorted and verified. */
  readonly pairs: number;
}

export const DEFAULT_BATCH_SETTINGS: BatchSettings = { minCandidatesPerSlot: 0.5, minSlots: 1 << 18, batchProbes: 1 << 21, tableProbes: 1 << 17, pairs: 1 << 21 };

/** Queries searched together at `maxDistance` (at most a lane's worth). */
export function batchSizeFor(plan: SearchPlan, maxDistance: number, settings: BatchSettings): number {
  return Math.max(1, Math.min(LANE_QUERIES, Math.floor(settings.batchProbes / Math.max(1, plan.probes[maxDistance]!))));
}

/** Whether `count` queries at `maxDistance` are faster searched together than one by one. */
export function batchPays(plan: SearchPlan, tables: TableSet, count: number, maxDistance: number, settings: BatchSettings): boolean {
  const slots = tables.postingCount;
  return count > 1 && slots >= settings.minSlots && Math.min(count, batchSizeFor(plan, maxDistance, settings)) * plan.candidates[maxDistance]! >= settings.minCandidatesPerSlot * slots;
}

/** Per-thread scratch for batched table searches. */
export class BatchTableSearcher {
  private probeKeys = new Uint32Array(0);
  private probeQueries = new Uint16Array(0);
  private readonly keyCounts = new Int32Array((1 << (24 - KEY_PAGE_BITS)) + 1);
  private rangeStart = new Int32Array(1 << 14);
  private rangeEnd = new Int32Array(1 << 14);
  private rangeQuery = new Uint16Array(1 << 14);
  /** The end of the bucket `bucketStart` looked up last. */
  private readonly bounds = new Int32Array(1);
  private tableRanges = new Int32Array(64);
  private queryKeys = new Uint32Array(0);
  /** `allKeys[q · m + t]`: query q's substring t, for the check of hits against earlier tables. */
  private allKeys = new Uint32Array(0);
  private candidates = new Float64Array(0);
  private scanned = new Uint8Array(0);
  private pairSlots = new Uint32Array(1 << 10);
  /** `t << 16 | q`: the pair's table and query. */
  private pairTags = new Uint32Array(1 << 10);
  private sortedPairs = new Uint32Array(0);
  private slotCounts = new Int32Array(MAX_SLOT_PARTITIONS + 1);
  private pairCount = 0;

  /**
   * Adds the hits of the lane's queries [0, count) to `collectors[q]`, duplicates dropped.
   * Answers how many of them were scanned as a fallback (the rest went through the tables).
   */
  search(
    target: TableSearchTarget,
    tables: TableSet,
    plan: SearchPlan,
    settings: BatchSettings,
    lane: Lane,
    count: number,
    maxDistance: number,
    collectors: readonly MatchCollector[],
  ): number {
    if (this.candidates.length < count) {
      this.candidates = new Float64Array(count);
      this.scanned = new Uint8Array(count);
      this.queryKeys = new Uint32Array(count);
    }
    const m = tables.layout.lengths.length;
    if (this.allKeys.length < m * count) this.allKeys = new Uint32Array(m * count);
    const batch = batchSizeFor(plan, maxDistance, settings);
    let fallbacks = 0;
    for (let first = 0; first < count; first += batch) {
      fallbacks += this.searchQueries(target, tables, plan, settings, lane, first, Math.min(count, first + batch), maxDistance, collectors);
    }
    return fallbacks;
  }

  /** The lane's queries [first, last). */
  private searchQueries(
    target: TableSearchTarget,
    tables: TableSet,
    plan: SearchPlan,
    settings: BatchSettings,
    lane: Lane,
    first: number,
    last: number,
    maxDistance: number,
    collectors: readonly MatchCollector[],
  ): number {
    const { words, slotCount } = target;
    const radii = plan.radii[maxDistance]!;
    const { starts, lengths } = tables.layout;
    const m = lengths.length;
    if (this.tableRanges.length < m + 1) this.tableRanges = new Int32Array(m + 1);
    const { candidates, scanned, tableRanges, queryKeys, allKeys } = this;
    candidates.fill(0, first, last);
    const queryWord = lane.query >>> 2;

    // 1. Bucket bounds of every probe, table by table, in key order.
    let ranges = 0;
    tableRanges[0] = 0;
    for (let t = 0; t < m; t++) {
      const radius = radii[t]!;
      if (radius >= 0) {
        for (let q = first; q < last; q++) {
          queryKeys[q] = substringKey(words, queryWord + q * 8, starts[t]!, lengths[t]!);
          allKeys[q * m + t] = queryKeys[q]!;
        }
        const ball = plan.balls[t]!;
        const probesPerQuery = ball.sizes[radius]!;
        const step = Math.max(1, Math.floor(settings.tableProbes / probesPerQuery));
        const needed = Math.min(last - first, step) * probesPerQuery;
        if (this.probeKeys.length < needed) {
          this.probeKeys = new Uint32Array(needed);
          this.probeQueries = new Uint16Array(this.probeKeys.length);
        }
        for (let from = first; from < last; from += step) {
          const probes = this.sortProbes(queryKeys, from, Math.min(last, from + step), ball.masks, probesPerQuery, lengths[t]!);
          ranges = this.lookUp(tables, t, probes, ranges);
        }
      }
      tableRanges[t + 1] = ranges;
    }

    // 2. Queries over the candidate budget are scanned instead.
    const budget = plan.candidateBudget[maxDistance]!;
    let fallbacks = 0;
    for (let q = first; q < last; q++) {
      scanned[q] = candidates[q]! > budget ? 1 : 0;
      fallbacks += scanned[q]!;
    }

    // 3. Postings into (slot, query) pairs, verified in slot order.
    this.pairCount = 0;
    const { rangeStart, rangeEnd, rangeQuery } = this;
    const capacity = Math.max(2, settings.pairs);
    if (this.pairSlots.length > capacity) this.growPairs(capacity);
    let { pairSlots, pairTags } = this;
    for (let t = 0; t < m; t++) {
      const { bytes, words: wide } = tables.tables[t]!.postings;
      for (let range = tableRanges[t]!, end = tableRanges[t + 1]!; range < end; range++) {
        const query = rangeQuery[range]!;
        if (scanned[query] === 1) continue;
        const tag = (t << 16) | query;
        for (let p = rangeStart[range]!, stop = rangeEnd[range]!; p < stop; p++) {
          let slot: number;
          if (wide !== null) slot = wide[p]!;
          else {
            const at = p * 3;
            slot = bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16);
          }
          const n = this.pairCount++;
          pairSlots[n] = slot;
          pairTags[n] = tag;
          if (n + 1 === pairSlots.length) {
            if (pairSlots.length < capacity) {
              this.growPairs(Math.min(capacity, 2 * pairSlots.length));
              ({ pairSlots, pairTags } = this);
            } else this.verifyPairs(target, tables, radii, lane, maxDistance, collectors);
          }
        }
      }
    }
    if (this.pairCount > 0) this.verifyPairs(target, tables, radii, lane, maxDistance, collectors);

    for (let q = first; q < last; q++) {
      const collector = collectors[q]!;
      if (scanned[q] === 1) scanSlots(target, lane, q, 0, slotCount, maxDistance, collector);
      else if (slotCount > tables.slotEnd) scanSlots(target, lane, q, tables.slotEnd, slotCount, maxDistance, collector);
    }
    return fallbacks;
  }

  /** Probes of queries [first, last) into `probeKeys`/`probeQueries`, partitioned by key page; answers their number. */
  private sortProbes(queryKeys: Uint32Array, first: number, last: number, masks: Int32Array, probesPerQuery: number, bits: number): number {
    const { probeKeys, probeQueries, keyCounts } = this;
    const shift = Math.min(bits, KEY_PAGE_BITS);
    const pages = 2 ** (bits - shift);
    keyCounts.fill(0, 0, pages + 1);
    for (let q = first; q < last; q++) {
      const key = queryKeys[q]!;
      for (let i = 0; i < probesPerQuery; i++) keyCounts[((key ^ masks[i]!) >>> shift) + 1]!++;
    }
    for (let page = 0; page < pages; page++) keyCounts[page + 1]! += keyCounts[page]!;
    for (let q = first; q < last; q++) {
      const key = queryKeys[q]!;
      for (let i = 0; i < probesPerQuery; i++) {
        const probe = key ^ masks[i]!;
        const at = keyCounts[probe >>> shift]!++;
        probeKeys[at] = probe;
        probeQueries[at] = q;
      }
    }
    return (last - first) * probesPerQuery;
  }

  /** Records the non-empty buckets of the first `probes` sorted probes of table `t` from range number `ranges` on; answers the new number of ranges. */
  private lookUp(tables: TableSet, t: number, probes: number, ranges: number): number {
    const { probeKeys, probeQueries, candidates } = this;
    const table = tables.tables[t]!;
    if (this.rangeStart.length < ranges + probes) this.growRanges(ranges + probes);
    const { rangeStart, rangeEnd, rangeQuery, bounds } = this;
    for (let j = 0; j < probes; j++) {
      const start = bucketStart(table, probeKeys[j]!, bounds);
      const end = bounds[0]!;
      if (end > start) {
        const query = probeQueries[j]!;
        rangeStart[ranges] = start;
        rangeEnd[ranges] = end;
        rangeQuery[ranges] = query;
        ranges++;
        candidates[query]! += end - start;
      }
    }
    return ranges;
  }

  private growRanges(needed: number): void {
    const size = Math.max(needed, this.rangeStart.length * 2);
    const grow = <T extends Int32Array | Uint16Array>(old: T, make: (n: number) => T): T => {
      const grown = make(size);
      grown.set(old);
      return grown;
    };
    this.rangeStart = grow(this.rangeStart, (n) => new Int32Array(n));
    this.rangeEnd = grow(this.rangeEnd, (n) => new Int32Array(n));
    this.rangeQuery = grow(this.rangeQuery, (n) => new Uint16Array(n));
  }

  /** Resizes the (empty or filling) pair lists to `size`, keeping the pairs gathered. */
  private growPairs(size: number): void {
    const slots = new Uint32Array(size);
    const tags = new Uint32Array(size);
    slots.set(this.pairSlots.subarray(0, Math.min(size, this.pairCount)));
    tags.set(this.pairTags.subarray(0, Math.min(size, this.pairCount)));
    this.pairSlots = slots;
    this.pairTags = tags;
  }

  /** Sorts the gathered pairs by slot page and verifies them with the kernel; empties the pair list. */
  private verifyPairs(target: TableSearchTarget, tables: TableSet, radii: Int8Array, lane: Lane, maxDistance: number, collectors: readonly MatchCollector[]): void {
    const slotEnd = tables.slotEnd;
    const { kernel, words, hashes } = target;
    const { pairSlots, pairTags, slotCounts } = this;
    if (this.sortedPairs.length < 2 * pairSlots.length) this.sortedPairs = new Uint32Array(2 * pairSlots.length);
    const sortedPairs = this.sortedPairs;
    const n = this.pairCount;
    this.pairCount = 0;
    let shift = MIN_SLOT_PAGE_BITS;
    while (slotEnd >>> shift >= MAX_SLOT_PARTITIONS) shift++;
    const partitions = (slotEnd >>> shift) + 1;
    slotCounts.fill(0, 0, partitions + 1);
    for (let i = 0; i < n; i++) slotCounts[(pairSlots[i]! >>> shift) + 1]!++;
    for (let p = 0; p < partitions; p++) slotCounts[p + 1]! += slotCounts[p]!;
    for (let i = 0; i < n; i++) {
      const slot = pairSlots[i]!;
      const at = 2 * slotCounts[slot >>> shift]!++;
      sortedPairs[at] = slot;
      sortedPairs[at + 1] = pairTags[i]!;
    }
    const pairsWord = lane.candidates >>> 2;
    const outWord = lane.output >>> 2;
    for (let from = 0; from < n; from += PAIRS_PER_CALL) {
      const chunk = Math.min(PAIRS_PER_CALL, n - from);
      words.set(sortedPairs.subarray(2 * from, 2 * (from + chunk)), pairsWord);
      const hits = kernel.verifyPairs(lane.query, hashes, lane.candidates, chunk, maxDistance, lane.output);
      for (let i = outWord, stop = outWord + 2 * hits; i < stop; i += 2) {
        const slot = words[i]!;
        const packed = words[i + 1]!;
        const table = packed >>> 24;
        const query = (packed >>> 8) & 0xffff;
        if (table > 0 && this.foundEarlier(target, tables, slot, table, query, radii)) continue;
        collectors[query]!.add(slot, packed & 0xff);
      }
    }
  }

  /** Whether a table before `table` also probes, for query `query`, the bucket holding `slot`. */
  private foundEarlier(target: TableSearchTarget, tables: TableSet, slot: number, table: number, query: number, radii: Int8Array): boolean {
    const { starts, lengths } = tables.layout;
    const m = lengths.length;
    const hashWord = (target.hashes >>> 2) + slot * 8;
    for (let t = 0; t < table; t++) {
      const radius = radii[t]!;
      if (radius < 0) continue;
      const key = substringKey(target.words, hashWord, starts[t]!, lengths[t]!);
      if (popcount32(key ^ this.allKeys[query * m + t]!) <= radius) return true;
    }
    return false;
  }
}
