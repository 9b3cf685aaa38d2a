/**
 * The contract of an exact Hamming-radius index over 256-bit hashes (SPEC §7, issue 3). Every
 * implementation — the WebAssembly linear scan and multi-index hashing — answers exactly what a
 * brute-force scan answers: every id within `maxDistance`, sorted by distance then id, deleted
 * ids never, and a hash added is found by the very next search.
 *
 * Ids are unsigned 32-bit integers chosen by the caller (the store's signal row ids). Several
 * ids may share one hash. Adding an id that is present replaces its hash.
 */

/** A 256-bit hash: 64 hex digits (any case) or 32 bytes. */
export type Hash256 = string | Uint8Array;

export interface IndexMatch {
  readonly id: number;
  readonly distance: number;
}

export interface SearchOptions {
  /** At most this many matches (the nearest ones); all when omitted. */
  readonly limit?: number;
  /** Only ids for which this returns true are answered; applied before `limit`. */
  readonly filter?: (id: number) => boolean;
}

export interface HammingIndex {
  /** Number of live (not deleted) ids. */
  readonly size: number;
  /** Bytes held by the index's own structures, the hashes included. */
  readonly memoryBytes: number;
  add(id: number, hash: Hash256): void;
  /**
   * Bulk insert: `ids[i]` owns the 32 bytes `hashes[32 i … 32 i + 31]`. Much faster than
   * repeated `add` when building from the store.
   */
  addMany(ids: Uint32Array, hashes: Uint8Array): void;
  /** Removes an id; answers whether it was present. */
  delete(id: number): boolean;
  has(id: number): boolean;
  search(hash: Hash256, maxDistance: number, options?: SearchOptions | number): IndexMatch[];
  searchMany(hashes: readonly Hash256[] | Uint8Array, maxDistance: number, options?: SearchOptions | number): Promise<IndexMatch[][]>;
  /** Stops the worker threads behind `searchMany` and background upkeep; they start again when needed. */
  close(): Promise<void>;
}
