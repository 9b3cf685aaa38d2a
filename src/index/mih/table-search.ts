/**
 * One multi-index query. Phase 1 looks up, in every table, the buckets of all keys within the
 * table's pigeonhole radius of the query's substring, and only records their bounds; if they
 * hold more candidates than the plan's budget, the query is answered by the scan instead
 * (clustered data, huge buckets). Phase 2 gathers each table's candidate slots into the lane
 * and verifies them with the WebAssembly kernel. Candidates found by several tables are
 * de-duplicated without any per-query marker array: a hit found in table t is kept only if no
 * earlier table's probe would also have found it, a check made for hits only. Slots added since
 * the tables were built (the delta) are scanned. Runs on the main thread and in workers alike.
 */
import type { MatchCollector } from '../match-collector.js';
import { CANDIDATE_CAPACITY, type Lane } from '../memory-lanes.js';
import { scanSlots, type ScanTarget } from '../slot-scan.js';
import type { SearchPlan } from './search-plan.js';
import { popcount32 } from '../popcount.js';
import { substringKey } from './substring-layout.js';
import type { TableSet } from './substring-tables.js';

export interface TableSearchTarget extends ScanTarget {
  /** Slots [tables.slotEnd, slotCount) are scanned. */
  readonly slotCount: number;
}

/** How a query was answered: by the tables, or by the scan as planned or as a fallback. */
export type SearchPath = 'tables' | 'planned-scan' | 'fallback-scan';

const SPILL_STRIDE = 33;

/** Per-thread scratch for table searches. */
export class TableSearcher {
  private rangeStart = new Int32Array(1024);
  private rangeEnd = new Int32Array(1024);
  private tableRanges = new Int32Array(64);
  private queryKeys = new Uint32Array(64);

  /** Adds the hits of the lane's query number `query` to `collector`; answers how it searched. */
  search(
    target: TableSearchTarget,
    tables: TableSet,
    plan: SearchPlan,
    lane: Lane,
    query: number,
    maxDistance: number,
    collector: MatchCollector,
  ): SearchPath {
    const { words, slotCount } = target;
    const indexedEnd = tables.slotEnd;
    if (!plan.useTables[maxDistance]) {
      scanSlots(target, lane, query, 0, slotCount, maxDistance, collector);
      return 'planned-scan';
    }
    const probes = plan.probes[maxDistance]!;
    if (this.rangeStart.length < probes) {
      this.rangeStart = new Int32Array(probes);
      this.rangeEnd = new Int32Array(probes);
    }
    const radii = plan.radii[maxDistance]!;
    const { starts, lengths } = tables.layout;
    const m = lengths.length;
    if (this.tableRanges.length < m) {
      this.tableRanges = new Int32Array(m);
      this.queryKeys = new Uint32Array(m);
    }
    const { rangeStart, rangeEnd, tableRanges, queryKeys } = this;
    const queryWord = (lane.query >>> 2) + query * 8;

    // Phase 1: bucket bounds of every probe.
    let ranges = 0;
    let candidates = 0;
    for (let t = 0; t < m; t++) {
      const radius = radii[t]!;
      if (radius >= 0) {
        const key = substringKey(words, queryWord, starts[t]!, lengths[t]!);
        queryKeys[t] = key;
        const ball = plan.balls[t]!;
        const masks = ball.masks;
        const count = ball.sizes[radius]!;
        const table = tables.tables[t]!;
        const groupStart = table.groupStart;
        const keyEnd = table.keyEnd;
        const spill = table.spill;
        for (let i = 0; i < count; i++) {
          const probe = key ^ masks[i]!;
          const base = groupStart[probe >>> 5]!;
          let start: number;
          let end: number;
          if (base >= 0) {
            end = base + keyEnd[probe]!;
            start = (probe & 31) === 0 ? base : base + keyEnd[probe - 1]!;
          } else {
            const at = ~base * SPILL_STRIDE + (probe & 31);
            start = spill[at]!;
            end = spill[at + 1]!;
          }
          if (end > start) {
            rangeStart[ranges] = start;
            rangeEnd[ranges] = end;
            ranges++;
            candidates += end - start;
          }
        }
      }
      tableRanges[t] = ranges;
    }
    if (candidates > plan.candidateBudget[maxDistance]!) {
      scanSlots(target, lane, query, 0, slotCount, maxDistance, collector);
      return 'fallback-scan';
    }

    // Phase 2: gather and verify each table's candidates.
    const candidateWord = lane.candidates >>> 2;
    let range = 0;
    for (let t = 0; t < m; t++) {
      if (radii[t]! < 0) continue;
      const { bytes, words: wide } = tables.tables[t]!.postings;
      let gathered = 0;
      for (const last = tableRanges[t]!; range < last; range++) {
        for (let p = rangeStart[range]!, end = rangeEnd[range]!; p < end; p++) {
          if (wide !== null) words[candidateWord + gathered++] = wide[p]!;
          else {
            const at = p * 3;
            words[candidateWord + gathered++] = bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16);
          }
          if (gathered === CANDIDATE_CAPACITY) {
            this.verify(target, tables, lane, query, t, radii, gathered, maxDistance, collector);
            gathered = 0;
          }
        }
      }
      if (gathered > 0) this.verify(target, tables, lane, query, t, radii, gathered, maxDistance, collector);
    }
    if (slotCount > indexedEnd) scanSlots(target, lane, query, indexedEnd, slotCount, maxDistance, collector);
    return 'tables';
  }

  private verify(
    target: TableSearchTarget,
    tables: TableSet,
    lane: Lane,
    query: number,
    table: number,
    radii: Int8Array,
    count: number,
    maxDistance: number,
    collector: MatchCollector,
  ): void {
    const { kernel, words, hashes } = target;
    const hits = kernel.verify(lane.query + query * 32, hashes, lane.candidates, count, maxDistance, lane.output);
    const outWord = lane.output >>> 2;
    for (let i = 0; i < hits; i++) {
      const slot = words[outWord + 2 * i]!;
      if (table > 0 && this.foundEarlier(target, tables, slot, table, radii)) continue;
      collector.add(slot, words[outWord + 2 * i + 1]!);
    }
  }

  /** Whether a table before `table` also probes the bucket holding `slot`. */
  private foundEarlier(target: TableSearchTarget, tables: TableSet, slot: number, table: number, radii: Int8Array): boolean {
    const { starts, lengths } = tables.layout;
    const hashWord = (target.hashes >>> 2) + slot * 8;
    for (let t = 0; t < table; t++) {
      const radius = radii[t]!;
      if (radius < 0) continue;
      const key = substringKey(target.words, hashWord, starts[t]!, lengths[t]!);
      if (popcount32(key ^ this.queryKeys[t]!) <= radius) return true;
    }
    return false;
  }
}
