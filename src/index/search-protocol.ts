/**
 * The messages between an index and its search workers, and how a worker answers a request:
 * workers take blocks of queries from a shared cursor (so a slow or busy core simply takes
 * fewer), copy each block into their own lane and answer it with the search engine.
 * Everything large travels as shared memory — the hashes, ids, dead bits and tables are never
 * copied; only the ranked answers come back, as transferred typed arrays.
 */
import type { StoreSnapshot } from './hash-store.js';
import { MatchCollector } from './match-collector.js';
import { lane as laneAt, QUERY_BLOCK } from './memory-lanes.js';
import { batchPays, batchSizeFor, type BatchSettings } from './mih/batch-table-search.js';
import { planSearches, type SearchCosts, type SearchPlan, type SearchStrategy } from './mih/search-plan.js';
import type { TableSet } from './mih/substring-tables.js';
import { SearchEngine, type SearchView } from './search-engine.js';
import { instantiatePopcountKernel, type PopcountKernel } from './wasm/popcount-kernel.js';

/**
 * Queries a worker takes at once through the tables: its share of the request as one batch where
 * searching together pays (a batch of 500 queries costs about half as much per query as one of
 * 250 at 1 M hashes), within the batch size the scratch allows; else a few at a time, one by one,
 * so that a busy core simply takes fewer.
 */
const TABLE_QUERY_BLOCK = 8;

export interface SearchSnapshot {
  readonly store: StoreSnapshot;
  readonly tables: TableSet | null;
  /** Changes whenever `tables` does (a build or a merge), so that workers know to re-plan. */
  readonly tablesVersion: number;
  readonly strategy: SearchStrategy;
  readonly costs: SearchCosts;
  readonly batch: BatchSettings;
}

export interface SearchRequest {
  /** Echoed by the response. */
  readonly id: number;
  readonly snapshot: SearchSnapshot;
  readonly lane: number;
  /** `queryCount` packed hashes in shared memory. */
  readonly queries: Uint8Array;
  readonly queryCount: number;
  /** Workers answering the request: each takes its share of the queries as one batch. */
  readonly workers: number;
  readonly maxDistance: number;
  /** At most this many answers per query; −1 for all (the caller filters first). */
  readonly limit: number;
  /** Shared `[next query]`, advanced with `Atomics.add`. */
  readonly cursor: Int32Array;
}

export interface SearchAnswer {
  /** For each answered query, in the order answered: its index, and its number of keys. */
  readonly queryIndexes: Uint32Array;
  readonly counts: Uint32Array;
  /** The ranked sort keys (`distance · 2^32 + id`) of all answered queries, concatenated. */
  readonly keys: Float64Array;
}

export type SearchResponse = { readonly id: number } & ({ readonly answer: SearchAnswer } | { readonly error: string });

class GrowableFloat64 {
  array = new Float64Array(1024);
  length = 0;

  append(values: Float64Array): void {
    if (this.length + values.length > this.array.length) {
      const grown = new Float64Array(Math.max(this.array.length * 2, this.length + values.length));
      grown.set(this.array.subarray(0, this.length));
      this.array = grown;
    }
    this.array.set(values, this.length);
    this.length += values.length;
  }
}

/**
 * What a worker keeps between requests of its index: the kernel instance over the index memory
 * and the search plan of the tables, rebuilt only when the memory or the tables change.
 */
export class SearchWorkerState {
  private readonly engine = new SearchEngine();
  private readonly collectors: MatchCollector[] = [];
  private memoryGeneration = -1;
  private memoryBytes = -1;
  private kernel: PopcountKernel | null = null;
  private tablesVersion = -1;
  private plan: SearchPlan | null = null;

  /** Answers the queries this thread takes from `request.cursor`. */
  answer(request: SearchRequest): SearchAnswer {
    const { snapshot, queries, queryCount, maxDistance, cursor } = request;
    const { store, tables } = snapshot;
    // A new memory, or the same one grown: instantiate afresh rather than rely on the old instance seeing the growth.
    const memoryBytes = store.memory.buffer.byteLength;
    if (this.kernel === null || store.memoryGeneration !== this.memoryGeneration || memoryBytes !== this.memoryBytes) {
      this.kernel = instantiatePopcountKernel(store.memory);
      this.memoryGeneration = store.memoryGeneration;
      this.memoryBytes = memoryBytes;
    }
    if (tables === null) this.plan = null;
    else if (snapshot.tablesVersion !== this.tablesVersion || this.plan === null) {
      this.plan = planSearches(tables.layout, tables.postingCount, tables.slotEnd, snapshot.strategy, snapshot.costs);
      this.tablesVersion = snapshot.tablesVersion;
    }
    const plan = this.plan;
    const words = new Uint32Array(store.memory.buffer);
    const bytes = new Uint8Array(store.memory.buffer);
    const view: SearchView = { kernel: this.kernel, words, hashes: store.hashes, slotCount: store.slotCount, tables, plan, batch: snapshot.batch };
    const lane = laneAt(request.lane);
    const limit = request.limit < 0 ? Infinity : request.limit;
    let block = QUERY_BLOCK;
    if (tables !== null && plan !== null && plan.useTables[maxDistance]) {
      const share = Math.min(batchSizeFor(plan, maxDistance, snapshot.batch), Math.ceil(queryCount / request.workers));
      block = batchPays(plan, tables, share, maxDistance, snapshot.batch) ? share : TABLE_QUERY_BLOCK;
    }
    while (this.collectors.length < block) this.collectors.push(new MatchCollector(store.ids, store.deadBits));
    const collectors = this.collectors;
    const queryIndexes: number[] = [];
    const counts: number[] = [];
    const keys = new GrowableFloat64();
    for (;;) {
      const first = Atomics.add(cursor, 0, block);
      if (first >= queryCount) break;
      const count = Math.min(block, queryCount - first);
      bytes.set(queries.subarray(first * 32, (first + count) * 32), lane.query);
      for (let q = 0; q < count; q++) collectors[q]!.reset(store.ids, store.deadBits);
      this.engine.searchBlock(view, lane, count, maxDistance, collectors);
      for (let q = 0; q < count; q++) {
        const collector = collectors[q]!;
        collector.rank(limit, undefined);
        queryIndexes.push(first + q);
        counts.push(collector.count);
        keys.append(collector.keys.subarray(0, collector.count));
      }
    }
    return { queryIndexes: Uint32Array.from(queryIndexes), counts: Uint32Array.from(counts), keys: keys.array.slice(0, keys.length) };
  }
}
