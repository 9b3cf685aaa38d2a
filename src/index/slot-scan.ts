/**
 * Linear scan of a slot range with the WebAssembly kernel: the whole of the linear-scan index,
 * the multi-index fallback, and the multi-index delta (slots added since its tables were built).
 * The queries must already sit in the lane's query area; the range is cut into pieces whose hits
 * always fit the lane's output area.
 */
import type { MatchCollector } from './match-collector.js';
import { OUTPUT_CAPACITY, QUERY_BLOCK, type Lane } from './memory-lanes.js';
import type { PopcountKernel } from './wasm/popcount-kernel.js';

export interface ScanTarget {
  readonly kernel: PopcountKernel;
  /** A view of the shared memory covering the output area. */
  readonly words: Uint32Array;
  /** Byte address of slot 0. */
  readonly hashes: number;
}

/** Adds the hits of the lane's query number `query` among slots [from, to). */
export function scanSlots(target: ScanTarget, lane: Lane, query: number, from: number, to: number, maxDistance: number, collector: MatchCollector): void {
  const { kernel, words, hashes } = target;
  const outWord = lane.output >>> 2;
  const queryAddress = lane.query + query * 32;
  for (let start = from; start < to; start += OUTPUT_CAPACITY) {
    const end = Math.min(to, start + OUTPUT_CAPACITY);
    const hits = kernel.scanOne(queryAddress, hashes, start, end, maxDistance, lane.output);
    if (hits > 0) collector.addPairs(words, outWord, hits);
  }
}

/**
 * Hits of `queryCount` (≤ QUERY_BLOCK) queries, stored consecutively in the lane's query area,
 * among slots [from, to), in one pass over the hashes; `collectors[q]` receives query q's.
 */
export function scanSlotsForBlock(
  target: ScanTarget,
  lane: Lane,
  queryCount: number,
  from: number,
  to: number,
  maxDistance: number,
  collectors: readonly MatchCollector[],
): void {
  if (queryCount > QUERY_BLOCK) throw new RangeError(`at most ${QUERY_BLOCK} queries per block`);
  const { kernel, words, hashes } = target;
  const outWord = lane.output >>> 2;
  const step = Math.max(1, Math.floor(OUTPUT_CAPACITY / queryCount));
  for (let start = from; start < to; start += step) {
    const end = Math.min(to, start + step);
    const hits = kernel.scanBlock(lane.query, queryCount, hashes, start, end, maxDistance, lane.output);
    for (let i = outWord, stop = outWord + 2 * hits; i < stop; i += 2) {
      const packed = words[i + 1]!;
      collectors[packed >>> 8]!.add(words[i]!, packed & 0xff);
    }
  }
}
