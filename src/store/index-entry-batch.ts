/**
 * Packs rows `[rowId, hash bytes, status]` of 256-bit signals into an `IndexEntryBatch` (ids,
 * contiguous 32-byte hashes, disputed ids): the form indexes are built from, by the store and by
 * a local mirror alike.
 */
import type { IndexEntryBatch } from './store.js';

export type IndexRow = [id: number, hash: Uint8Array, status: string];

export function packIndexEntries(rows: readonly IndexRow[]): IndexEntryBatch {
  const ids = new Uint32Array(rows.length);
  const hashes = new Uint8Array(rows.length * 32);
  const disputed: number[] = [];
  rows.forEach(([id, hash, status], i) => {
    ids[i] = id;
    hashes.set(hash, i * 32);
    if (status === 'disputed') disputed.push(id);
  });
  return { ids, hashes, disputed };
}

/** Reads index rows page by page (rows with an id above the last one read) and yields them packed. */
export function* indexEntryBatches(readPage: (afterId: number, limit: number) => readonly IndexRow[], batchSize: number): Generator<IndexEntryBatch> {
  let after = 0;
  for (;;) {
    const rows = readPage(after, batchSize);
    if (rows.length === 0) return;
    yield packIndexEntries(rows);
    after = rows[rows.length - 1]![0];
  }
}
