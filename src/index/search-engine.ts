/**
 * Answers the queries sitting in a lane against one view of an index, on whichever thread holds
 * the view: the linear-scan index is a view without tables, the multi-index one a view with its
 * tables and their search plan (or without, while it is too small to need them). A block of
 * queries that will all be scanned is scanned in one pass over the hashes.
 */
import type { MatchCollector } from './match-collector.js';
import type { Lane } from './memory-lanes.js';
import type { SearchPlan } from './mih/search-plan.js';
import type { TableSet } from './mih/substring-tables.js';
import { TableSearcher, type SearchPath } from './mih/table-search.js';
import { scanSlots, scanSlotsForBlock, type ScanTarget } from './slot-scan.js';

export interface SearchView extends ScanTarget {
  /** Slots [0, slotCount) are searched. */
  readonly slotCount: number;
  readonly tables: TableSet | null;
  readonly plan: SearchPlan | null;
}

export class SearchEngine {
  private readonly searcher = new TableSearcher();

  /** Query number `query` of the lane. */
  searchOne(view: SearchView, lane: Lane, query: number, maxDistance: number, collector: MatchCollector): SearchPath {
    const { tables, plan } = view;
    if (tables === null || plan === null) {
      scanSlots(view, lane, query, 0, view.slotCount, maxDistance, collector);
      return 'planned-scan';
    }
    return this.searcher.search(view, tables, plan, lane, query, maxDistance, collector);
  }

  /** Queries [0, count) of the lane; query q's hits go to `collectors[q]`. */
  searchBlock(view: SearchView, lane: Lane, count: number, maxDistance: number, collectors: readonly MatchCollector[]): void {
    const { tables, plan } = view;
    if (tables === null || plan === null || !plan.useTables[maxDistance]) {
      scanSlotsForBlock(view, lane, count, 0, view.slotCount, maxDistance, collectors);
      return;
    }
    for (let q = 0; q < count; q++) this.searcher.search(view, tables, plan, lane, q, maxDistance, collectors[q]!);
  }
}
