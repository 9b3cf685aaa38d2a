/**
 * The multi-index hashing `HammingIndex` (Norouzi, Punjani & Fleet, CVPR 2012) for large banks.
 * Its tables index the store's slots below `tables.slotEnd`; slots appended since (the delta)
 * are scanned with every query, and dead slots are dropped when hits are collected, so a change
 * is visible to the very next search.
 *
 * Upkeep after each mutation:
 * - the delta is merged into the tables, in place on the calling thread, once it holds
 *   `mergeThreshold` slots (about 0.2 s at 10 million hashes for 8192 slots, ~20 µs per add);
 *   merges wait while a `searchMany` batch is reading the tables;
 * - the tables are rebuilt from scratch when dead postings reach 1/8 of them, or when the size
 *   has drifted far enough to want a different m (`chooseSubstringCount`); large rebuilds run in a
 *   background worker while queries use the current tables plus the delta;
 * - the store is compacted (and the tables rebuilt at once) when dead slots outnumber live ones.
 * Below `minTableSize` hashes there are no tables and every query is a scan.
 */
import { isSignalbankError } from '../errors.js';
import type { BatchSettings } from './mih/batch-table-search.js';
import { DEFAULT_COSTS, planSearches, scanNanos, type SearchCosts, type SearchPlan, type SearchStrategy } from './mih/search-plan.js';
import { chooseSubstringCount } from './mih/substring-count.js';
import { evenLayout, MAX_SUBSTRING_BITS } from './mih/substring-layout.js';
import { mergeTables, tableSetBytes, type TableSet } from './mih/substring-tables.js';
import { BackgroundBuilder, runTableBuild, type TableBuild } from './mih/background-build.js';
import type { SearchSnapshot } from './search-protocol.js';
import type { IndexThreadOptions } from './stored-hash-index.js';
import { StoredHashIndex } from './stored-hash-index.js';

export interface MultiIndexOptions extends IndexThreadOptions {
  /** Fixes m instead of deriving it from the size. */
  readonly substrings?: number;
  /** Longest substring (default 24 bits, 2^24 keys of offsets per table); excess bits are not indexed. */
  readonly maxSubstringBits?: number;
  /** Below this many hashes there are no tables (default 8192). */
  readonly minTableSize?: number;
  /** Delta slots that trigger a merge (default: postings / 64, within 256–8192). */
  readonly mergeThreshold?: number;
  /** Rebuild large tables in a background worker (default true). */
  readonly backgroundBuild?: boolean;
  /** Rebuilds of at least this many hashes go to the background worker (default 2^18). */
  readonly backgroundBuildFrom?: number;
  readonly strategy?: SearchStrategy;
  readonly costs?: SearchCosts;
  /** Scratch bounds of `searchMany` batches through the tables (tests set them tiny to split batches). */
  readonly batch?: BatchSettings;
}

const DEFAULT_MIN_TABLE_SIZE = 8192;
const DEFAULT_BACKGROUND_BUILD_FROM = 1 << 18;
const MIN_DEAD_TO_COMPACT = 4096;
/** The size must change by this factor before a different m rebuilds the tables. */
const RELAYOUT_FACTOR = 1.5;
/** The default merge threshold is 1/64 of the postings, within these bounds. */
const MIN_MERGE_THRESHOLD = 256;
const MAX_MERGE_THRESHOLD = 8192;
/** Dead slots may make up this share of the postings before the tables are rebuilt. */
const MAX_DEAD_POSTING_SHARE = 1 / 8;

/** What upkeep the tables had since the index was created. */
export interface TableUpkeep {
  builds: number;
  /** Builds run by the background worker (also counted in `builds`). */
  backgroundBuilds: number;
  merges: number;
  compactions: number;
  /** Wall time of all merges, on the calling thread. */
  mergeMillis: number;
  /** Wall time of all builds, on whichever thread they ran. */
  buildMillis: number;
}

export class MultiIndexHashingIndex extends StoredHashIndex {
  readonly upkeep: TableUpkeep = { builds: 0, backgroundBuilds: 0, merges: 0, compactions: 0, mergeMillis: 0, buildMillis: 0 };
  private tables: TableSet | null = null;
  private plan: SearchPlan | null = null;
  private tablesVersion = 0;
  private layoutSize = 0;
  /** The background build, if one runs; `buildSerial` tells whether its result is still wanted. */
  private build: Promise<void> | null = null;
  private buildSerial = 0;
  private readonly background: BackgroundBuilder | null;
  private backgroundFailed = false;
  private readonly fixedSubstrings: number | undefined;
  private readonly maxSubstringBits: number;
  private readonly minTableSize: number;
  private readonly fixedMergeThreshold: number | undefined;
  private readonly backgroundBuildFrom: number;
  private readonly strategy: SearchStrategy;
  private readonly costs: SearchCosts;

  constructor(options: MultiIndexOptions = {}) {
    super(options);
    this.maxSubstringBits = options.maxSubstringBits ?? MAX_SUBSTRING_BITS;
    evenLayout(options.substrings ?? 1, this.maxSubstringBits); // validates both
    this.fixedSubstrings = options.substrings;
    this.minTableSize = options.minTableSize ?? DEFAULT_MIN_TABLE_SIZE;
    this.fixedMergeThreshold = options.mergeThreshold;
    this.background = options.backgroundBuild === false ? null : new BackgroundBuilder();
    this.backgroundBuildFrom = options.backgroundBuildFrom ?? DEFAULT_BACKGROUND_BUILD_FROM;
    this.strategy = options.strategy ?? 'auto';
    this.costs = options.costs ?? DEFAULT_COSTS;
    if (options.batch !== undefined) this.view.batch = options.batch;
  }

  /** m of the current tables; 0 while there are none. */
  get substrings(): number {
    return this.tables?.layout.lengths.length ?? 0;
  }

  /** Slots added since the tables were built, scanned by every query. */
  get deltaSize(): number {
    return this.store.slotCount - (this.tables?.slotEnd ?? 0);
  }

  /** Resolves once no background build is running. */
  async settle(): Promise<void> {
    while (this.build !== null) await this.build;
  }

  override async close(): Promise<void> {
    await super.close();
    await this.background?.close();
  }

  protected structureBytes(): number {
    return this.tables === null ? 0 : tableSetBytes(this.tables);
  }

  protected estimateQueryNanos(maxDistance: number): number {
    const plan = this.plan;
    const search = plan === null || !plan.useTables[maxDistance] ? scanNanos(this.store.slotCount, this.costs) : plan.queryNanos[maxDistance]! + scanNanos(this.deltaSize, this.costs);
    return this.costs.query + search;
  }

  protected snapshot(): SearchSnapshot {
    return { store: this.store.snapshot(), tables: this.tables, tablesVersion: this.tablesVersion, strategy: this.strategy, costs: this.costs, batch: this.view.batch };
  }

  protected maintain(bulk: boolean): void {
    const store = this.store;
    const readersAway = this.batchesInFlight === 0;
    let now = bulk;
    if (readersAway && this.build === null && store.deadCount >= MIN_DEAD_TO_COMPACT && store.deadCount > store.size) {
      // Renumbering the slots invalidates the tables: rebuilt at once, on this thread.
      store.compact();
      this.upkeep.compactions++;
      this.install(null);
      now = true;
    }
    const size = store.size;
    const tables = this.tables;
    if (tables === null) {
      if (size > 0 && size >= this.minTableSize && (now || this.build === null)) this.rebuild(this.substringsFor(size), now);
      return;
    }
    const current = tables.layout.lengths.length;
    let drifted = false;
    if (size >= this.layoutSize * RELAYOUT_FACTOR || size * RELAYOUT_FACTOR <= this.layoutSize) {
      drifted = this.substringsFor(size) !== current;
      if (!drifted) this.layoutSize = size; // still the right m: measure the next drift from here
    }
    const threshold = this.fixedMergeThreshold ?? Math.min(MAX_MERGE_THRESHOLD, Math.max(MIN_MERGE_THRESHOLD, tables.postingCount >>> 6));
    // Merges keep the postings of slots that died; a build from scratch drops them once they add up.
    const deadPostings = store.deadBelowBoundary - (tables.slotEnd - tables.postingCount);
    const rebuildDue = drifted || deadPostings >= Math.max(threshold, tables.postingCount * MAX_DEAD_POSTING_SHARE);
    // Any rebuild takes the m that suits the size now.
    if (rebuildDue && (now || this.build === null)) this.rebuild(this.substringsFor(size), now);
    if (this.tables === tables && this.deltaSize >= threshold && readersAway) this.merge(tables);
  }

  private substringsFor(size: number): number {
    return this.fixedSubstrings ?? chooseSubstringCount(size, this.maxSubstringBits, this.costs);
  }

  private merge(tables: TableSet): void {
    const started = performance.now();
    const { words, hashes, deadBits } = this.store;
    this.install(mergeTables(tables, { words, hashesWord: hashes >>> 2, deadBits }, this.store.slotCount));
    this.upkeep.merges++;
    this.upkeep.mergeMillis += performance.now() - started;
  }

  private rebuild(substrings: number, now: boolean): void {
    const store = this.store;
    const job: TableBuild = {
      layout: evenLayout(substrings, this.maxSubstringBits),
      source: { memory: store.memory, hashes: store.hashes, deadBits: store.deadBits },
      slotEnd: store.slotCount,
    };
    const serial = ++this.buildSerial;
    const storeVersion = store.version;
    const size = store.size;
    const started = performance.now();
    const finished = (): void => {
      this.upkeep.builds++;
      this.upkeep.buildMillis += performance.now() - started;
      this.layoutSize = size;
    };
    const background = this.background;
    if (now || background === null || this.backgroundFailed || size < this.backgroundBuildFrom) {
      this.install(runTableBuild(job));
      finished();
      return;
    }
    this.upkeep.backgroundBuilds++;
    this.build = background.run(job).then(
      (tables) => {
        this.build = null;
        // A later build or a compaction makes this result stale.
        if (serial !== this.buildSerial || store.version !== storeVersion) return;
        this.install(tables);
        finished();
        this.maintain(false);
      },
      (error: unknown) => {
        this.build = null;
        // A worker stopped by `close` is not a failure; a crashed one is: build here from now on.
        if (!(isSignalbankError(error) && error.code === 'ERR_UNAVAILABLE')) this.backgroundFailed = true;
      },
    );
  }

  private install(tables: TableSet | null): void {
    this.tables = tables;
    this.tablesVersion++;
    this.plan = tables === null ? null : planSearches(tables.layout, tables.postingCount, tables.slotEnd, this.strategy, this.costs);
    this.view.tables = tables;
    this.view.plan = this.plan;
    this.store.trackDeadBelow(tables?.slotEnd ?? 0);
  }
}
