/**
 * What both implementations of `HammingIndex` share: input validation, the slot store, ranking
 * of the hits into the contract's order, and `searchMany` on the worker pool. A subclass says
 * how its view of the store is searched (`SearchView.tables`), what it keeps besides the store,
 * and what upkeep follows a mutation (`maintain`, never run while workers read the store).
 *
 * `search` runs on the calling thread with lane 0 and reused scratch, so a call allocates little
 * beyond its answer. `searchMany` runs on the pool; mutations made while a batch is running are
 * allowed — the batch answers from the index as it was when it started, minus any id deleted or
 * re-hashed in the meantime.
 */
import { availableParallelism } from 'node:os';
import type { Hash256, HammingIndex, IndexMatch, SearchOptions } from './hamming-index.js';
import { HashStore } from './hash-store.js';
import { checkBulk, checkId, checkMaxDistance, packHashes, resolveSearchOptions, writeHash, HASH_BYTES } from './index-input.js';
import { matchFromKey, MatchCollector } from './match-collector.js';
import { lane, QUERY_BLOCK } from './memory-lanes.js';
import { batchPays, batchSizeFor, DEFAULT_BATCH_SETTINGS, type BatchSettings } from './mih/batch-table-search.js';
import type { SearchPlan } from './mih/search-plan.js';
import type { TableSet } from './mih/substring-tables.js';
import type { SearchPath } from './mih/table-search.js';
import { hashDistance } from './popcount.js';
import { SearchEngine, type SearchView } from './search-engine.js';
import { SearchPool } from './search-pool.js';
import type { SearchSnapshot } from './search-protocol.js';

export interface IndexThreadOptions {
  /** Worker threads for `searchMany`; default: the available parallelism. 0 searches inline. */
  readonly workers?: number;
  /** Batches estimated to take less than this many nanoseconds run inline, not on the workers. */
  readonly inlineBatchNanos?: number;
  /** Scheduling niceness of the worker threads (0 normal … 19 lowest): below the request thread. */
  readonly workerNiceness?: number;
}

/** Batches estimated below 10 ms gain too little from the workers to pay for the hand-over. */
const DEFAULT_INLINE_BATCH_NANOS = 10_000_000;

/** How queries were answered since the index was created (queries of `search` and inline batches). */
export interface SearchPathCounts {
  tables: number;
  plannedScan: number;
  fallbackScan: number;
}

/** The main thread's view of the store; `tables` and `plan` are set by the multi-index. */
class StoreView implements SearchView {
  tables: TableSet | null = null;
  plan: SearchPlan | null = null;
  batch: BatchSettings = DEFAULT_BATCH_SETTINGS;

  constructor(private readonly store: HashStore) {}

  get kernel() {
    return this.store.kernel;
  }

  get words() {
    return this.store.words;
  }

  get hashes() {
    return this.store.hashes;
  }

  get slotCount() {
    return this.store.slotCount;
  }
}

export abstract class StoredHashIndex implements HammingIndex {
  protected readonly store: HashStore;
  protected readonly view: StoreView;
  /** `searchMany` batches running on the workers. */
  protected batchesInFlight = 0;
  readonly searchPaths: SearchPathCounts = { tables: 0, plannedScan: 0, fallbackScan: 0 };
  private readonly engine = new SearchEngine();
  private readonly pool: SearchPool | null;
  private readonly inlineBatchNanos: number;
  private readonly mainLane = lane(0);
  private readonly hashScratch = new Uint8Array(HASH_BYTES);
  private idleCollector: MatchCollector | null;
  /** Reused by `searchMany` batches answered on this thread. */
  private readonly inlineCollectors: MatchCollector[] = [];
  private mutations = 0;

  constructor(options: IndexThreadOptions = {}) {
    const workers = options.workers ?? Math.max(1, availableParallelism());
    if (!Number.isInteger(workers) || workers < 0) throw new RangeError(`workers must be a non-negative integer, received ${workers}`);
    this.store = new HashStore(1 + workers);
    this.view = new StoreView(this.store);
    this.pool = workers > 0 ? new SearchPool(workers, options.workerNiceness ?? 0) : null;
    this.inlineBatchNanos = options.inlineBatchNanos ?? DEFAULT_INLINE_BATCH_NANOS;
    this.idleCollector = new MatchCollector(this.store.ids, this.store.deadBits);
  }

  get size(): number {
    return this.store.size;
  }

  get memoryBytes(): number {
    return this.store.memoryBytes + this.structureBytes();
  }

  /** Bytes held besides the store. */
  protected abstract structureBytes(): number;
  /** Upkeep after mutations and after batches (compaction, table merges); `bulk` after `addMany`. */
  protected abstract maintain(bulk: boolean): void;
  /** Estimated cost of one query at `maxDistance`, to decide whether a batch is worth the workers. */
  protected abstract estimateQueryNanos(maxDistance: number): number;
  protected abstract snapshot(): SearchSnapshot;

  add(id: number, hash: Hash256): void {
    checkId(id);
    writeHash(hash, this.hashScratch, 0);
    const slot = this.store.slotOf(id);
    if (slot >= 0 && this.store.hashEquals(slot, this.hashScratch, 0)) return;
    this.store.append(id, this.hashScratch, 0);
    this.mutations++;
    this.maintain(false);
  }

  addMany(ids: Uint32Array, hashes: Uint8Array): void {
    checkBulk(ids, hashes);
    if (ids.length === 0) return;
    this.store.appendMany(ids, hashes);
    this.mutations++;
    this.maintain(true);
  }

  delete(id: number): boolean {
    checkId(id);
    if (this.store.remove(id) < 0) return false;
    this.mutations++;
    this.maintain(false);
    return true;
  }

  has(id: number): boolean {
    checkId(id);
    return this.store.slotOf(id) >= 0;
  }

  search(hash: Hash256, maxDistance: number, options?: SearchOptions | number): IndexMatch[] {
    checkMaxDistance(maxDistance);
    const { limit, filter } = resolveSearchOptions(options);
    const store = this.store;
    writeHash(hash, store.bytes, this.mainLane.query);
    // A filter may search this index again; the nested call then gets a collector of its own.
    const collector = this.idleCollector ?? new MatchCollector(store.ids, store.deadBits);
    this.idleCollector = null;
    try {
      collector.reset(store.ids, store.deadBits);
      this.count(this.engine.searchOne(this.view, this.mainLane, 0, maxDistance, collector));
      collector.rank(limit, filter);
      return collector.matches();
    } finally {
      this.idleCollector = collector;
    }
  }

  async searchMany(hashes: readonly Hash256[] | Uint8Array, maxDistance: number, options?: SearchOptions | number): Promise<IndexMatch[][]> {
    checkMaxDistance(maxDistance);
    const { limit, filter } = resolveSearchOptions(options);
    const queries = packHashes(hashes);
    const count = queries.length / HASH_BYTES;
    if (count === 0) return [];
    const rankLimit = filter === undefined ? limit : Infinity;
    let answers: Float64Array[];
    if (this.pool === null || count * this.estimateQueryNanos(maxDistance) < this.inlineBatchNanos) {
      answers = this.searchInline(queries, maxDistance, rankLimit);
    } else {
      const mutationsBefore = this.mutations;
      this.batchesInFlight++;
      try {
        answers = await this.pool.run(this.snapshot(), queries, maxDistance, rankLimit);
      } finally {
        this.batchesInFlight--;
      }
      if (this.mutations !== mutationsBefore) answers = answers.map((keys, q) => this.stillValid(keys, queries, q));
      this.maintain(false);
    }
    return answers.map((keys) => selectMatches(keys, limit, filter));
  }

  /** Stops the worker threads (they restart when needed); the index stays usable. */
  async close(): Promise<void> {
    await this.pool?.close();
  }

  private count(path: SearchPath): void {
    if (path === 'tables') this.searchPaths.tables++;
    else if (path === 'planned-scan') this.searchPaths.plannedScan++;
    else this.searchPaths.fallbackScan++;
  }

  private searchInline(queries: Uint8Array, maxDistance: number, limit: number): Float64Array[] {
    const answers: Float64Array[] = [];
    const total = queries.length / HASH_BYTES;
    const { tables, plan, batch: settings } = this.view;
    // Scanned: blocks of queries in one pass; through the tables: one batch where that pays, else one by one.
    let block = QUERY_BLOCK;
    if (tables !== null && plan !== null && plan.useTables[maxDistance]) {
      const batch = Math.min(total, batchSizeFor(plan, maxDistance, settings));
      block = batchPays(plan, tables, batch, maxDistance, settings) ? batch : 1;
    }
    const collectors = this.inlineCollectors;
    while (collectors.length < Math.min(block, total)) collectors.push(new MatchCollector(this.store.ids, this.store.deadBits));
    for (let offset = 0; offset < queries.length; offset += block * HASH_BYTES) {
      const chunk = queries.subarray(offset, offset + block * HASH_BYTES);
      const count = chunk.length / HASH_BYTES;
      this.store.bytes.set(chunk, this.mainLane.query);
      for (let q = 0; q < count; q++) collectors[q]!.reset(this.store.ids, this.store.deadBits);
      const paths = this.engine.searchBlock(this.view, this.mainLane, count, maxDistance, collectors);
      this.searchPaths.tables += paths.tables;
      this.searchPaths.plannedScan += paths.plannedScan;
      this.searchPaths.fallbackScan += paths.fallbackScan;
      for (let q = 0; q < count; q++) {
        const collector = collectors[q]!;
        collector.rank(limit, undefined);
        answers.push(collector.keys.slice(0, collector.count));
      }
    }
    return answers;
  }

  /** Drops answers whose id was deleted, or re-hashed to another distance, while a batch ran. */
  private stillValid(keys: Float64Array, queries: Uint8Array, query: number): Float64Array {
    const store = this.store;
    return keys.filter((key) => {
      const { id, distance } = matchFromKey(key);
      const slot = store.slotOf(id);
      return slot >= 0 && hashDistance(queries, query * HASH_BYTES, store.bytes, store.hashes + slot * HASH_BYTES) === distance;
    });
  }
}

function selectMatches(keys: Float64Array, limit: number, filter: ((id: number) => boolean) | undefined): IndexMatch[] {
  const matches: IndexMatch[] = [];
  for (let i = 0; i < keys.length && matches.length < limit; i++) {
    const match = matchFromKey(keys[i]!);
    if (filter === undefined || filter(match.id)) matches.push(match);
  }
  return matches;
}
