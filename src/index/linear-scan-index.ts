/**
 * The linear-scan `HammingIndex`: every query compares the query with every stored hash through
 * the WebAssembly `i64.popcnt` kernel (`searchMany` compares a block of queries per pass over the
 * hashes, on the worker threads). No structure besides the slot store, so adds and deletes cost
 * next to nothing; dead slots are compacted away once they are a fifth of the store. It is the
 * reference the multi-index is measured against, and the right index for small banks.
 */
import type { IndexThreadOptions } from './stored-hash-index.js';
import { StoredHashIndex } from './stored-hash-index.js';
import { DEFAULT_COSTS, scanNanos } from './mih/search-plan.js';
import type { SearchSnapshot } from './search-protocol.js';

const MIN_DEAD_TO_COMPACT = 4096;

export class LinearScanIndex extends StoredHashIndex {
  constructor(options: IndexThreadOptions = {}) {
    super(options);
  }

  protected structureBytes(): number {
    return 0;
  }

  protected maintain(): void {
    const dead = this.store.deadCount;
    if (this.batchesInFlight === 0 && dead >= MIN_DEAD_TO_COMPACT && dead * 4 > this.store.size) this.store.compact();
  }

  protected estimateQueryNanos(): number {
    return DEFAULT_COSTS.query + scanNanos(this.store.slotCount, DEFAULT_COSTS);
  }

  protected snapshot(): SearchSnapshot {
    return { store: this.store.snapshot(), tables: null, tablesVersion: 0, strategy: 'auto', costs: DEFAULT_COSTS, batch: this.view.batch };
  }
}
