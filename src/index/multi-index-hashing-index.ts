/**
 * The multi-index hashing `HammingIndex` (Norouzi, Punjani & Fleet, CVPR 2012) for large banks.
 * Its tables index the store's slots up to `tables.slotEnd`; slots appended since (the delta)
 * are scanned with every query, and dead slots are skipped when hits are collected, so a change
 * is visible to the very next search. Upkeep folds the delta into the tables once it holds
 * `mergeThreshold` slots (or once many indexed slots died): on the calling thread while the
 * tables are small, in a background worker once they are large — queries keep using the old
 * tables plus the delta until the new ones are swapped in. The substring count m follows the
 * size (`substringCountFor`); the tables are rebuilt when the size drifts far enough for a
 * different m. Below `minTableSize` hashes there are no tables and every query is a scan.
 */
import type { IndexThreadOptions } from './stored-hash-index.js';
import { StoredHashIndex } from './stored-hash-index.js';
import { DEFAULT_COSTS, planSearches, type SearchCosts, type SearchPlan, type SearchStrategy } from './mih/search-plan.js';
import { evenLayout, MAX_SUBSTRING_BITS, substringCountFor } from './mih/substring-layout.js';
import { tableSetBytes, type TableSet } from './mih/substring-tables.js';
import { BackgroundTableWorker, runTableJob, type TableJob } from './mih/table-maintenance.js';
import type { SearchSnapshot } from './search-protocol.js';
import { isSignalbankError } from '../errors.js';

export interface MultiIndexOptions extends IndexThreadOptions {
  /** Fixes m instead of deriving it from the size. */
  readonly substrings?: number;
  /** Longest substring (default 24 bits, 2^24 keys of offsets per table); excess bits are not indexed. */
  readonly maxSubstringBits?: number;
  /** Below this many hashes there are no tables (default 8192). */
  readonly minTableSize?: number;
  /** Delta slots that trigger a merge (default: postings / 64, within 256–8192). */
  readonly mergeThreshold?: number;
  /** Merge large tables in a background worker (default true). */
  readonly backgroundMerge?: boolean;
  /** Tables with at least this many postings are merged in the background (default 2^18). */
  readonly backgroundMergeFrom?: number;
  readonly strategy?: SearchStrategy;
  readonly costs?: SearchCosts;
}

const DEFAULT_MIN_TABLE_SIZE = 8192;
/** Tables with fewer postings are merged on the calling thread (a few milliseconds at most). */
const DEFAULT_BACKGROUND_MERGE_FROM = 1 << 18;
const MIN_DEAD_TO_COMPACT = 4096;
/** The size must change by this factor before a different m rebuilds the tables. */
const RELAYOUT_FACTOR = 1.5;

export interface TableUpkeepCounts {
  builds: number;
  merges: number;
  backgroundJobs: number;
  compactions: number;
}

export class MultiIndexHashingIndex extends StoredHashIndex {
  readonly upkeep: TableUpkeepCounts = { builds: 0, merges: 0, backgroundJobs: 0, compactions: 0 };
  private tables: TableSet | null = null;
  private plan: SearchPlan | null = null;
  private layoutSize = 0;
  private job: Promise<void> | null = null;
  private readonly background: BackgroundTableWorker | null;
  private backgroundFailed = false;
  private readonly fixedSubstrings: number | undefined;
  private readonly maxSubstringBits: number;
  private readonly minTableSize: number;
  private readonly fixedMergeThreshold: number | undefined;
  private readonly backgroundMergeFrom: number;
  private readonly strategy: SearchStrategy;
  private readonly costs: SearchCosts;

  constructor(options: MultiIndexOptions = {}) {
    super(options);
    this.maxSubstringBits = options.maxSubstringBits ?? MAX_SUBSTRING_BITS;
    evenLayout(options.substrings ?? 1, this.maxSubstringBits); // validates both
    this.fixedSubstrings = options.substrings;
    this.minTableSize = options.minTableSize ?? DEFAULT_MIN_TABLE_SIZE;
    this.fixedMergeThreshold = options.mergeThreshold;
    this.background = options.backgroundMerge === false ? null : new BackgroundTableWorker();
    this.backgroundMergeFrom = options.backgroundMergeFrom ?? DEFAULT_BACKGROUND_MERGE_FROM;
    this.strategy = options.strategy ?? 'auto';
    this.costs = options.costs ?? DEFAULT_COSTS;
  }

  /** m of the current tables; 0 while there are none. */
  get substrings(): number {
    return this.tables?.layout.lengths.length ?? 0;
  }

  /** Slots added since the tables were built, scanned by every query. */
  get deltaSize(): number {
    return this.store.slotCount - (this.tables?.slotEnd ?? 0);
  }

  /** Resolves once no background build or merge is running. */
  async settle(): Promise<void> {
    while (this.job !== null) await this.job;
  }

  override async close(): Promise<void> {
    await super.close();
    await this.background?.close();
  }

  protected structureBytes(): number {
    return this.tables === null ? 0 : tableSetBytes(this.tables);
  }

  protected estimateQueryNanos(maxDistance: number): number {
    const scan = this.store.slotCount * this.costs.scannedSlot;
    const plan = this.plan;
    if (plan === null || !plan.useTables[maxDistance]) return scan;
    return plan.queryNanos[maxDistance]! + this.deltaSize * this.costs.scannedSlot;
  }

  protected snapshot(): SearchSnapshot {
    return { store: this.store.snapshot(), tables: this.tables, strategy: this.strategy, costs: this.costs };
  }

  protected maintain(bulk: boolean): void {
    const store = this.store;
    if (store.deadCount >= MIN_DEAD_TO_COMPACT && store.deadCount > store.size && this.batchesInFlight === 0 && this.job === null) {
      store.compact();
      this.upkeep.compactions++;
      this.install(null);
    }
    if (this.job !== null && !bulk) return;
    const size = store.size;
    const substrings = this.fixedSubstrings ?? substringCountFor(size);
    const tables = this.tables;
    if (tables === null) {
      if (size > 0 && size >= this.minTableSize) this.build(substrings, bulk);
      return;
    }
    const drifted = size >= this.layoutSize * RELAYOUT_FACTOR || size * RELAYOUT_FACTOR <= this.layoutSize;
    if (substrings !== tables.layout.lengths.length && drifted) {
      this.build(substrings, bulk);
      return;
    }
    const threshold = this.fixedMergeThreshold ?? Math.min(8192, Math.max(256, tables.postingCount >>> 6));
    const deadPostings = store.deadBelowBoundary - (tables.slotEnd - tables.postingCount);
    if (this.deltaSize >= threshold || deadPostings >= Math.max(threshold, tables.postingCount / 8)) {
      this.upkeep.merges++;
      this.run({ kind: 'merge', previous: tables, source: this.jobSource(), slotEnd: store.slotCount }, tables.postingCount, bulk);
    }
  }

  private build(substrings: number, bulk: boolean): void {
    this.upkeep.builds++;
    this.layoutSize = this.store.size;
    this.run({ kind: 'build', layout: evenLayout(substrings, this.maxSubstringBits), source: this.jobSource(), slotEnd: this.store.slotCount }, this.store.size, bulk);
  }

  private jobSource(): TableJob['source'] {
    const { memory, hashes, deadBits } = this.store;
    return { memory, hashes, deadBits };
  }

  private run(job: TableJob, postings: number, bulk: boolean): void {
    const background = this.background;
    if (bulk || background === null || this.backgroundFailed || postings < this.backgroundMergeFrom) {
      this.install(runTableJob(job));
      return;
    }
    this.upkeep.backgroundJobs++;
    const before = this.tables;
    const storeVersion = this.store.version;
    this.job = background.run(job).then(
      (tables) => {
        this.job = null;
        // A bulk load or a compaction may have replaced the tables meanwhile: then this result is stale.
        if (this.tables === before && this.store.version === storeVersion) this.install(tables);
        this.maintain(false);
      },
      (error: unknown) => {
        this.job = null;
        // A worker stopped by `close` is not a failure; a crashed one is: merge here from now on.
        if (!(isSignalbankError(error) && error.code === 'ERR_UNAVAILABLE')) this.backgroundFailed = true;
      },
    );
  }

  private install(tables: TableSet | null): void {
    this.tables = tables;
    this.plan = tables === null ? null : planSearches(tables.layout, tables.postingCount, tables.slotEnd, this.strategy, this.costs);
    this.view.tables = tables;
    this.view.plan = this.plan;
    this.store.trackDeadBelow(tables?.slotEnd ?? 0);
  }
}
