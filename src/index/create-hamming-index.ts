/**
 * The one way the service builds an index: multi-index hashing, which chooses its substring
 * count from the size and scans while the bank is small, or — on request — the plain linear
 * scan. Both answer identically; they differ only in speed and memory.
 */
import type { HammingIndex } from './hamming-index.js';
import { LinearScanIndex } from './linear-scan-index.js';
import { MultiIndexHashingIndex, type MultiIndexOptions } from './multi-index-hashing-index.js';

export interface CreateHammingIndexOptions extends MultiIndexOptions {
  /** `'multi-index'` (default) or `'linear-scan'`, which ignores the multi-index options. */
  readonly kind?: 'multi-index' | 'linear-scan';
}

export function createHammingIndex(options: CreateHammingIndexOptions = {}): HammingIndex {
  const { kind = 'multi-index', ...rest } = options;
  if (kind === 'linear-scan') {
    const { workers, inlineBatchNanos, workerNiceness } = rest;
    return new LinearScanIndex({
      ...(workers === undefined ? {} : { workers }),
      ...(inlineBatchNanos === undefined ? {} : { inlineBatchNanos }),
      ...(workerNiceness === undefined ? {} : { workerNiceness }),
    });
  }
  return new MultiIndexHashingIndex(rest);
}
