/**
 * Layout of the scratch "lanes" at the start of an index's shared WebAssembly memory. Every
 * thread that searches (the main thread is lane 0, worker k is lane k + 1) owns one lane, so
 * threads never share scratch: a block of queries, a candidate list for the verification kernel and
 * an output area for kernel hits. The hashes start after the last lane, 64-byte aligned.
 */

/** Queries the block scan compares in one pass over the hashes. */
export const QUERY_BLOCK = 64;
/** Queries a lane holds at once: a batch searched through the tables together (`mih/batch-table-search.ts`). */
export const LANE_QUERIES = 1024;
/** Candidate slots handed to one `verify` call. */
export const CANDIDATE_CAPACITY = 4096;
/** Hits one kernel call may write; every call is sized so that it cannot write more. */
export const OUTPUT_CAPACITY = 8192;

const QUERY_BYTES = LANE_QUERIES * 32;
const CANDIDATE_BYTES = CANDIDATE_CAPACITY * 4;
const OUTPUT_BYTES = OUTPUT_CAPACITY * 8;
const LANE_BYTES = QUERY_BYTES + CANDIDATE_BYTES + OUTPUT_BYTES;

export interface Lane {
  /** Byte address of the query block (the single query of `search` is query 0). */
  readonly query: number;
  readonly candidates: number;
  readonly output: number;
}

export function lane(index: number): Lane {
  const base = index * LANE_BYTES;
  return { query: base, candidates: base + QUERY_BYTES, output: base + QUERY_BYTES + CANDIDATE_BYTES };
}

/** Byte address of slot 0's hash when `laneCount` lanes precede it. */
export function hashesOffset(laneCount: number): number {
  return Math.ceil((laneCount * LANE_BYTES) / 64) * 64;
}
