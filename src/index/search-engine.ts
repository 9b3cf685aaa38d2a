/**
 * Answers the queries sitting in a lane against one view of an index, on whichever thread holds
 * the view: the linear-scan index is a view without tables, the multi-index one a view with its
 * tables and their search plan (or without, while it is too small to need them). A block of
 * queries that will all be scanned is scanned in one pass over the hashes; one that goes through
 * the tables is searched as a batch (`mih/batch-table-search.ts`).
 */
import type { MatchCollector } from './match-collector.js';
import type { Lane } from './memory-lanes.js';
import type { SearchPlan } from './mih/search-plan.js';
import type { TableSet } from './mih/substring-tables.js';
import { batchPays, BatchTableSearcher, type BatchSettings } from './mih/batch-table-search.js';
import { TableSearcher, type SearchPath } from './mih/table-search.js';
import { scanSlots, scanSlotsForBlock, type ScanTarget } from './slot-scan.js';

export interface SearchView extends ScanTarget {
  /** Slots [0, slotCount) are searched. */
  readonly slotCount: number;
  readonly tables: TableSet | null;
  readonly plan: SearchPlan | null;
  /** Scratch bounds of batched table searches. */
  readonly batch: BatchSettings;
}

export class SearchEngine {
  private readonly searcher = new TableSearcher();
  private batchSearcher: BatchTableSearcher | null = null;

  /** Query number `query` of the lane. */
  searchOne(view: SearchView, lane: Lane, query: number, maxDistance: number, collector: MatchCollector): SearchPath {
    const { tables, plan } = view;
    if (tables === null || plan === null) {
      scanSlots(view, lane, query, 0, view.slotCount, maxDistance, collector);
      return 'planned-scan';
    }
    return this.searcher.search(view, tables, plan, lane, query, maxDistance, collector);
  }

  /**
   * Queries [0, count) of the lane (at most `QUERY_BLOCK` when they are scanned); query q's hits
   * go to `collectors[q]`: scanned in one pass, searched together as a batch where that pays
   * (`batchPays`), else one by one. Answers how many went through the tables and how many were scanned.
   */
  searchBlock(view: SearchView, lane: Lane, count: number, maxDistance: number, collectors: readonly MatchCollector[]): BlockPaths {
    const { tables, plan } = view;
    if (tables === null || plan === null || !plan.useTables[maxDistance]) {
      scanSlotsForBlock(view, lane, count, 0, view.slotCount, maxDistance, collectors);
      return { tables: 0, plannedScan: count, fallbackScan: 0 };
    }
    let fallbacks = 0;
    if (batchPays(plan, tables, count, maxDistance, view.batch)) {
      this.batchSearcher ??= new BatchTableSearcher();
      fallbacks = this.batchSearcher.search(view, tables, plan, view.batch, lane, count, maxDistance, collectors);
    } else {
      for (let q = 0; q < count; q++) if (this.searcher.search(view, tables, plan, lane, q, maxDistance, collectors[q]!) === 'fallback-scan') fallbacks++;
    }
    return { tables: count - fallbacks, plannedScan: 0, fallbackScan: fallbacks };
  }
}

/** How the queries of a block were answered. */
export interface BlockPaths {
  readonly tables: number;
  readonly plannedScan: number;
  readonly fallbackScan: number;
}
