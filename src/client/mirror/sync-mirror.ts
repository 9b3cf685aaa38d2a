/**
 * Brings a mirror up to date from the change feed: reads pages from the mirror's own cursor and
 * applies each in one transaction with its new cursor (see `MirrorDb.applyPage`), until the feed
 * has no more. The next page is fetched while the current one is written, so the network and the
 * disk overlap. Stopping at any point — an error, a kill — leaves a correct mirror to resume from.
 */
import type { SignalbankClient } from '../signalbank-client.js';
import type { MirrorDb } from './mirror-db.js';

export const SYNC_PAGE_SIZE = 10_000;

export interface SyncProgress {
  /** The cursor the run started from. */
  readonly from: number;
  /** The mirror's cursor now. */
  readonly cursor: number;
  /** The newest seq of the feed, as last reported. */
  readonly lastSeq: number;
  readonly applied: number;
}

export interface SyncSummary {
  readonly applied: number;
  readonly upserts: number;
  readonly deletes: number;
  readonly from: number;
  readonly cursor: number;
  readonly signals: number;
  readonly elapsedSeconds: number;
}

export interface SyncOptions {
  readonly pageSize?: number;
  readonly onPage?: (progress: SyncProgress) => void;
}

export async function syncMirror(client: SignalbankClient, mirror: MirrorDb, options: SyncOptions = {}): Promise<SyncSummary> {
  const started = performance.now();
  const pageSize = options.pageSize ?? SYNC_PAGE_SIZE;
  const from = mirror.cursor();
  let upserts = 0;
  let deletes = 0;
  let pending = client.changes(from, pageSize);
  for (;;) {
    const page = await pending;
    if (page.hasMore) {
      pending = client.changes(page.next, pageSize);
      // Awaited on the next turn; a failure while this page is written must not go unhandled.
      pending.catch(() => undefined);
    }
    const applied = mirror.applyPage(page.changes, page.next);
    upserts += applied.upserts;
    deletes += applied.deletes;
    options.onPage?.({ from, cursor: page.next, lastSeq: Math.max(page.lastSeq, page.next), applied: upserts + deletes });
    if (!page.hasMore) break;
  }
  return {
    applied: upserts + deletes,
    upserts,
    deletes,
    from,
    cursor: mirror.cursor(),
    signals: mirror.size(),
    elapsedSeconds: (performance.now() - started) / 1000,
  };
}
