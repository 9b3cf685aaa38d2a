/**
 * A local mirror of the bank (issue 6): a SQLite file holding every signal members can see, as
 * the change feed last showed it, and the feed cursor it reflects. A page of changes and the new
 * cursor are written in one transaction, so the file is always the bank as of its cursor — a sync
 * killed at any point leaves the previous page's state and the next run resumes from there.
 * Applying a change is idempotent (an upsert replaces, a delete of an absent signal is a no-op).
 * The mirror also serves what `match --mirror` needs: index entries per type and signals by id.
 */
import { existsSync } from 'node:fs';
import { NotFoundError, OperationError } from '../../errors.js';
import type { SignalStatus } from '../../signals/signal-status.js';
import type { SignalTypeName } from '../../signals/signal-type.js';
import { indexEntryBatches, packedIndexPageSql, type PackedIndexPage } from '../../store/index-entry-batch.js';
import { openDatabase, type SqliteDatabase } from '../../store/sqlite/database.js';
import type { IndexEntryBatch, Media, SignalRecord } from '../../store/store.js';
import type { FeedChange, FeedSignal } from '../signalbank-client.js';

const FORMAT = '1';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS mirror_state (
  key    TEXT PRIMARY KEY,
  value  TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS signals (
  row_id  INTEGER PRIMARY KEY,        -- local; the id in the local Hamming index
  id      TEXT NOT NULL UNIQUE,       -- the bank's public signal id
  type    TEXT NOT NULL,
  hash    BLOB NOT NULL,
  status  TEXT NOT NULL,
  signal  TEXT NOT NULL               -- JSON, exactly as the feed's upsert carried it
) STRICT;
-- Index entries by type in row order, read without touching the JSON (covering); appended to.
CREATE INDEX IF NOT EXISTS signals_by_type ON signals (type, row_id, status, hash);
-- Exact types are looked up by value; perceptual ones only through the Hamming index.
CREATE INDEX IF NOT EXISTS signals_by_exact_hash ON signals (type, hash) WHERE type IN ('md5', 'sha256');
`;

export interface AppliedPage {
  readonly upserts: number;
  readonly deletes: number;
}

interface StoredRow {
  row_id: number;
  signal: string;
}

function toRecord(row: StoredRow): SignalRecord {
  const s = JSON.parse(row.signal) as FeedSignal;
  return {
    rowId: row.row_id,
    id: s.id,
    type: s.type as SignalTypeName,
    hash: s.hash,
    media: s.media as Media,
    labels: s.labels,
    submitters: s.submitters,
    opinions: s.opinions,
    status: s.status as SignalStatus,
    firstSeen: s.firstSeen,
    updatedAt: s.updatedAt,
  };
}

export class MirrorDb {
  private readonly q;

  private constructor(private readonly db: SqliteDatabase) {
    this.q = {
      state: db.prepare<[string], { value: string }>('SELECT value FROM mirror_state WHERE key = ?'),
      setState: db.prepare('INSERT INTO mirror_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
      upsert: db.prepare(`INSERT INTO signals (id, type, hash, status, signal) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET status = excluded.status, signal = excluded.signal`),
      delete: db.prepare('DELETE FROM signals WHERE id = ?'),
      count: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM signals'),
      byId: db.prepare<[string], StoredRow>('SELECT row_id, signal FROM signals WHERE id = ?'),
      byExactHash: db.prepare<[string, Buffer], StoredRow>("SELECT row_id, signal FROM signals WHERE type = ? AND hash = ? AND type IN ('md5', 'sha256')"),
      byRowIds: db.prepare<[string], StoredRow>('SELECT row_id, signal FROM signals WHERE row_id IN (SELECT value FROM json_each(?))'),
      all: db.prepare<[], { signal: string }>('SELECT signal FROM signals ORDER BY id'),
      indexPage: db.prepare<[string, number, number], PackedIndexPage>(
        packedIndexPageSql('SELECT row_id, hash, status FROM signals WHERE type = ? AND row_id > ? ORDER BY row_id LIMIT ?', 'row_id'),
      ),
    };
    this.q.indexPage.raw(true);
  }

  /** Opens a mirror file; `create` makes a new one when there is none (sync), otherwise it must exist (match). */
  static open(path: string, options: { create: boolean }): MirrorDb {
    if (!options.create && !existsSync(path)) throw new NotFoundError(`No mirror at ${path}; create it with signalbank sync --mirror ${path}`);
    const db = openDatabase(path);
    try {
      // A first sync inserts a million rows into two random-key indexes: keep their pages cached.
      db.pragma('cache_size = -65536');
      const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((t) => t.name);
      if (tables.length > 0 && !tables.includes('mirror_state')) throw new OperationError('ERR_SCHEMA_MISMATCH', `${path} is an SQLite file but not a signalbank mirror`);
      db.exec(SCHEMA);
      const mirror = new MirrorDb(db);
      const format = mirror.q.state.get('format')?.value;
      if (format === undefined) mirror.q.setState.run('format', FORMAT);
      else if (format !== FORMAT) throw new OperationError('ERR_SCHEMA_TOO_NEW', `${path} is a mirror of format ${format}; this code reads format ${FORMAT}`);
      return mirror;
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** The feed position the mirror reflects: every change with `seq` up to it is applied. */
  cursor(): number {
    return Number(this.q.state.get('cursor')?.value ?? 0);
  }

  /**
   * Applies one page of the feed and moves the cursor to `next`, in one transaction. Changes at or
   * below the cursor (a page read twice) are skipped; a page that does not continue the cursor
   * in increasing order is refused and changes nothing.
   */
  applyPage(changes: readonly FeedChange[], next: number): AppliedPage {
    return this.db
      .transaction(() => {
        const cursor = this.cursor();
        let previous = cursor;
        let upserts = 0;
        let deletes = 0;
        for (const change of changes) {
          if (!Number.isSafeInteger(change.seq) || change.seq <= previous) {
            if (change.seq <= cursor) continue;
            throw new OperationError('ERR_UPSTREAM', `The feed went backwards: seq ${change.seq} after ${previous}`);
          }
          previous = change.seq;
          if (change.op === 'upsert') {
            const s = change.signal;
            this.q.upsert.run(s.id, s.type, Buffer.from(s.hash, 'hex'), s.status, JSON.stringify(s));
            upserts++;
          } else if (change.op === 'delete') {
            this.q.delete.run(change.signal.id);
            deletes++;
          } else {
            throw new OperationError('ERR_UPSTREAM', `Unknown change op ${JSON.stringify((change as { op: unknown }).op)} at seq ${previous}`);
          }
        }
        if (next < previous) throw new OperationError('ERR_UPSTREAM', `The feed's next (${next}) is before its last change (${previous})`);
        if (next > cursor) this.q.setState.run('cursor', String(next));
        return { upserts, deletes };
      })
      .immediate();
  }

  /** Signals held. */
  size(): number {
    return this.q.count.get()?.n ?? 0;
  }

  /** One signal as the feed last showed it. */
  get(id: string): FeedSignal | undefined {
    const row = this.q.byId.get(id);
    return row && (JSON.parse(row.signal) as FeedSignal);
  }

  /** Every signal held, by id. */
  *signals(): Generator<FeedSignal> {
    for (const row of this.q.all.iterate()) yield JSON.parse(row.signal) as FeedSignal;
  }

  /** The signal of an exact type (md5, sha256) with this value. */
  findExact(type: SignalTypeName, hash: string): SignalRecord | undefined {
    const row = this.q.byExactHash.get(type, Buffer.from(hash, 'hex'));
    return row && toRecord(row);
  }

  byRowIds(rowIds: readonly number[]): Map<number, SignalRecord> {
    const found = new Map<number, SignalRecord>();
    for (const row of this.q.byRowIds.all(JSON.stringify(rowIds))) found.set(row.row_id, toRecord(row));
    return found;
  }

  /** Every signal of a 256-bit type, in batches, to build the local index. */
  *indexEntries(type: SignalTypeName, batchSize = 65_536): Generator<IndexEntryBatch> {
    yield* indexEntryBatches((after, limit) => this.q.indexPage.get(type, after, limit)!, batchSize);
  }

  close(): void {
    this.db.close();
  }
}
