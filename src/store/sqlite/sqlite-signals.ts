/**
 * SQLite persistence of signals, submissions and opinions. A signal's aggregate columns (labels,
 * submitters, opinion counts, status, media) are derived from its active submissions and the
 * opinions of members who did not submit it, and rewritten in the same transaction as every
 * change; the change also appends its audit entry and, when the member-facing signal changed, a
 * row of the change feed.
 */
import { newPublicId } from '../public-id.js';
import { ConflictError, NotFoundError } from '../../errors.js';
import { unionLabels } from '../../signals/labels.js';
import { signalStatus, type SignalStatus } from '../../signals/signal-status.js';
import type { SignalTypeName } from '../../signals/signal-type.js';
import { indexEntryBatches, packedIndexPageSql, type PackedIndexPage } from '../index-entry-batch.js';
import { feedSignal } from '../public-signal.js';
import type {
  AuditOrigin,
  ChangeRow,
  IndexEntryBatch,
  Media,
  OpinionInput,
  OwnPart,
  SignalChange,
  SignalRecord,
  SignalWithOwnPart,
  SubmissionInput,
  SubmitOutcome,
  SubmitStatus,
  Verdict,
} from '../store.js';
import type { SqliteDatabase } from './database.js';
import type { AuditAppender, SqliteAuditLog } from './sqlite-audit.js';

interface SignalRow {
  id: number;
  public_id: string;
  type: SignalTypeName;
  hash: Buffer;
  media: Media;
  status: SignalStatus;
  labels: string;
  submitters: number;
  confirms: number;
  false_positives: number;
  dispute_labels: number;
  first_seen: string;
  updated_at: string;
}

interface SubmissionRow {
  status: 'active' | 'retracted';
  labels: string;
  media: Media;
  quality: number | null;
  ref: string | null;
  created_at: string;
  updated_at: string;
}

interface OpinionRow {
  verdict: Verdict;
  labels: string | null;
  reason: string | null;
  updated_at: string;
}

interface Aggregates {
  media: Media;
  labels: string;
  submitters: number;
  confirms: number;
  false_positives: number;
  dispute_labels: number;
  status: SignalStatus;
}

function toRecord(row: SignalRow): SignalRecord {
  return {
    rowId: row.id,
    id: row.public_id,
    type: row.type,
    hash: row.hash.toString('hex'),
    media: row.media,
    labels: JSON.parse(row.labels) as string[],
    submitters: row.submitters,
    opinions: { confirm: row.confirms, falsePositive: row.false_positives, disputeLabels: row.dispute_labels },
    status: row.status,
    firstSeen: row.first_seen,
    updatedAt: row.updated_at,
  };
}

function sameAggregates(row: SignalRow, next: Aggregates): boolean {
  return (
    row.media === next.media &&
    row.labels === next.labels &&
    row.submitters === next.submitters &&
    row.confirms === next.confirms &&
    row.false_positives === next.false_positives &&
    row.dispute_labels === next.dispute_labels &&
    row.status === next.status
  );
}

/**
 * One page of the index load at start (after row id, type, page size), in row-id order. The unary
 * `+` keeps SQLite from answering it through the (type, hash) index, which visits and sorts every
 * row of the type for every page — quadratic: 37–54 s to load 1 M signals (bench:http). Walking
 * the row ids reads each row once.
 */
const INDEX_PAGE_ROWS_SQL = "SELECT id, hash, status FROM signals WHERE id > ? AND +type = ? AND status != 'retracted' ORDER BY id LIMIT ?";

/** The same page packed by SQLite into one row (`src/store/index-entry-batch.ts`). */
export const INDEX_PAGE_SQL = packedIndexPageSql(INDEX_PAGE_ROWS_SQL, 'id');

/**
 * Whether a type has any live signal, through the (type, hash) index: the walk above reads every
 * row of every type, so a type with none (blockhash, in a bank of PDQ) skips it instead of reading
 * the whole table for nothing.
 */
export const TYPE_HAS_LIVE_SIGNALS_SQL = "SELECT 1 AS found FROM signals WHERE type = ? AND status != 'retracted' LIMIT 1";

export class SqliteSignals {
  private readonly q;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly audit: SqliteAuditLog,
    private readonly now: () => string,
    /** Benchmarks only (`bench/sync.ts` measures what the feed costs): false writes no feed rows. */
    private readonly appendChanges = true,
  ) {
    this.q = {
      byTypeHash: db.prepare<[string, Buffer], SignalRow>('SELECT * FROM signals WHERE type = ? AND hash = ?'),
      byPublicId: db.prepare<[string], SignalRow>('SELECT * FROM signals WHERE public_id = ?'),
      byRowId: db.prepare<[number], SignalRow>('SELECT * FROM signals WHERE id = ?'),
      byRowIds: db.prepare<[string], SignalRow>('SELECT * FROM signals WHERE id IN (SELECT value FROM json_each(?))'),
      // A new (type, hash) is inserted in one step; an existing one leaves the row untouched
      // (no change) and is then read — one index search per item instead of two.
      insertSignal: db.prepare(`INSERT INTO signals (public_id, type, hash, media, status, labels, submitters,
        confirms, false_positives, dispute_labels, first_seen, updated_at) VALUES (?, ?, ?, ?, 'active', ?, 1, 0, 0, 0, ?, ?)
        ON CONFLICT (type, hash) DO NOTHING`),
      updateAggregates: db.prepare(`UPDATE signals SET media = ?, labels = ?, submitters = ?, confirms = ?,
        false_positives = ?, dispute_labels = ?, status = ?, updated_at = ? WHERE id = ?`),
      submission: db.prepare<[number, string], SubmissionRow>(
        'SELECT status, labels, media, quality, ref, created_at, updated_at FROM submissions WHERE signal_id = ? AND member_id = ?',
      ),
      insertSubmission: db.prepare(`INSERT INTO submissions (signal_id, member_id, status, labels, media, quality, ref,
        created_at, updated_at) VALUES (?, ?, 'active', ?, ?, ?, ?, ?, ?)`),
      reactivateSubmission: db.prepare(`UPDATE submissions SET status = 'active', labels = ?, media = ?, quality = ?, ref = ?,
        created_at = ?, updated_at = ? WHERE signal_id = ? AND member_id = ?`),
      updateSubmission: db.prepare(
        'UPDATE submissions SET labels = ?, media = ?, quality = ?, ref = ?, updated_at = ? WHERE signal_id = ? AND member_id = ?',
      ),
      retractSubmission: db.prepare("UPDATE submissions SET status = 'retracted', updated_at = ? WHERE signal_id = ? AND member_id = ?"),
      activeSubmissions: db.prepare<[number], { labels: string; media: Media }>(
        "SELECT labels, media FROM submissions WHERE signal_id = ? AND status = 'active' ORDER BY created_at, member_id",
      ),
      opinionCounts: db.prepare<[number], { confirms: number; false_positives: number; dispute_labels: number }>(`SELECT
          coalesce(sum(verdict = 'confirm'), 0) AS confirms,
          coalesce(sum(verdict = 'false_positive'), 0) AS false_positives,
          coalesce(sum(verdict = 'dispute_labels'), 0) AS dispute_labels
        FROM opinions o WHERE o.signal_id = ? AND NOT EXISTS (SELECT 1 FROM submissions s
          WHERE s.signal_id = o.signal_id AND s.member_id = o.member_id AND s.status = 'active')`),
      opinion: db.prepare<[number, string], OpinionRow>('SELECT verdict, labels, reason, updated_at FROM opinions WHERE signal_id = ? AND member_id = ?'),
      upsertOpinion: db.prepare(`INSERT INTO opinions (signal_id, member_id, verdict, labels, reason, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (signal_id, member_id) DO UPDATE SET
        verdict = excluded.verdict, labels = excluded.labels, reason = excluded.reason, updated_at = excluded.updated_at`),
      insertChange: db.prepare("INSERT INTO signal_changes (signal_id, op, at, snapshot) VALUES (?, ?, ?, ?)"),
      changesAfter: db.prepare<[number, number], ChangeRow>('SELECT seq, op, at, snapshot AS signal FROM signal_changes WHERE seq > ? ORDER BY seq LIMIT ?'),
      lastChangeSeq: db.prepare<[], { seq: number | null }>('SELECT max(seq) AS seq FROM signal_changes'),
      indexPage: db.prepare<[number, string, number], PackedIndexPage>(INDEX_PAGE_SQL),
      typeHasLiveSignals: db.prepare<[string], { found: number }>(TYPE_HAS_LIVE_SIGNALS_SQL),
    };
    this.q.indexPage.raw(true);
  }

  submit(memberId: string, items: readonly SubmissionInput[], origin: AuditOrigin): SubmitOutcome[] {
    return this.db
      .transaction(() => {
        const at = this.now();
        const audit = this.audit.appender(origin);
        return items.map((item) => this.submitOne(memberId, item, at, audit));
      })
      .immediate();
  }

  private submitOne(memberId: string, item: SubmissionInput, at: string, audit: AuditAppender): SubmitOutcome {
    const hashBlob = Buffer.from(item.hash, 'hex');
    const labels = JSON.stringify(item.labels);
    const quality = item.quality ?? null;
    const ref = item.ref ?? null;
    const publicId = newPublicId();
    const inserted = this.q.insertSignal.run(publicId, item.type, hashBlob, item.media, labels, at, at);
    const existing = inserted.changes === 0 ? this.q.byTypeHash.get(item.type, hashBlob) : undefined;
    let status: SubmitStatus;
    let signal: SignalRecord;
    if (!existing) {
      const rowId = Number(inserted.lastInsertRowid);
      this.q.insertSubmission.run(rowId, memberId, labels, item.media, quality, ref, at, at);
      status = 'created';
      // The row just written, as `toRecord` would read it back.
      signal = {
        rowId,
        id: publicId,
        type: item.type,
        hash: hashBlob.toString('hex'),
        media: item.media,
        labels: [...item.labels],
        submitters: 1,
        opinions: { confirm: 0, falsePositive: 0, disputeLabels: 0 },
        status: 'active',
        firstSeen: at,
        updatedAt: at,
      };
      if (this.appendChanges) this.q.insertChange.run(rowId, 'upsert', at, JSON.stringify(feedSignal(signal)));
    } else {
      const own = this.q.submission.get(existing.id, memberId);
      if (!own) {
        this.q.insertSubmission.run(existing.id, memberId, labels, item.media, quality, ref, at, at);
        status = 'added';
      } else if (own.status === 'retracted') {
        this.q.reactivateSubmission.run(labels, item.media, quality, ref, at, at, existing.id, memberId);
        status = 'added';
      } else if (own.labels === labels && own.media === item.media && own.quality === quality && own.ref === ref) {
        return { status: 'unchanged', signal: toRecord(existing), previousStatus: existing.status };
      } else {
        this.q.updateSubmission.run(labels, item.media, quality, ref, at, existing.id, memberId);
        status = 'updated';
      }
      signal = this.refresh(existing, at);
    }
    const data: Record<string, unknown> = { type: item.type, hash: item.hash, labels: item.labels, media: item.media };
    if (item.quality !== undefined) data['quality'] = item.quality;
    if (item.ref !== undefined) data['ref'] = item.ref;
    data['result'] = status;
    audit.append('signal.submit', signal.id, data, at);
    return { status, signal, previousStatus: existing ? existing.status : null };
  }

  retract(memberId: string, signalId: string, origin: AuditOrigin): SignalChange {
    return this.db
      .transaction(() => {
        const row = this.q.byPublicId.get(signalId);
        const own = row && this.q.submission.get(row.id, memberId);
        if (!row || own?.status !== 'active') throw new NotFoundError(`You have no active submission for signal ${signalId}`);
        const at = this.now();
        this.q.retractSubmission.run(at, row.id, memberId);
        const signal = this.refresh(row, at);
        this.audit.appender(origin).append(
          'signal.retract',
          signal.id,
          { type: signal.type, hash: signal.hash, signalLabels: JSON.parse(row.labels) as string[], previousStatus: row.status, status: signal.status },
          at,
        );
        return { signal, previousStatus: row.status };
      })
      .immediate();
  }

  setOpinion(memberId: string, signalId: string, opinion: OpinionInput, origin: AuditOrigin): SignalChange {
    return this.db
      .transaction(() => {
        const row = this.q.byPublicId.get(signalId);
        if (!row) throw new NotFoundError(`No signal ${signalId}`);
        if (this.q.submission.get(row.id, memberId)?.status === 'active') {
          throw new ConflictError('You submitted this signal; re-submit it with other labels or retract it instead of giving an opinion');
        }
        const at = this.now();
        const labels = opinion.labels === undefined ? null : JSON.stringify(opinion.labels);
        this.q.upsertOpinion.run(row.id, memberId, opinion.verdict, labels, opinion.reason ?? null, at, at);
        const signal = this.refresh(row, at);
        const data: Record<string, unknown> = { verdict: opinion.verdict };
        if (opinion.labels !== undefined) data['labels'] = opinion.labels;
        if (opinion.reason !== undefined) data['reason'] = opinion.reason;
        Object.assign(data, { type: signal.type, signalLabels: signal.labels, previousStatus: row.status, status: signal.status });
        this.audit.appender(origin).append('opinion.set', signal.id, data, at);
        return { signal, previousStatus: row.status };
      })
      .immediate();
  }

  /** Recomputes a signal's aggregates after a change; writes them and a feed row if they moved. */
  private refresh(row: SignalRow, at: string): SignalRecord {
    const active = this.q.activeSubmissions.all(row.id);
    const counts = this.q.opinionCounts.get(row.id) ?? { confirms: 0, false_positives: 0, dispute_labels: 0 };
    const next: Aggregates = {
      media: active[0]?.media ?? row.media,
      labels: JSON.stringify(unionLabels(active.map((s) => JSON.parse(s.labels) as string[]))),
      submitters: active.length,
      confirms: counts.confirms,
      false_positives: counts.false_positives,
      dispute_labels: counts.dispute_labels,
      status: signalStatus(active.length, counts.confirms, counts.false_positives),
    };
    if (sameAggregates(row, next)) return toRecord(row);
    this.q.updateAggregates.run(next.media, next.labels, next.submitters, next.confirms, next.false_positives, next.dispute_labels, next.status, at, row.id);
    const signal = toRecord({ ...row, ...next, updated_at: at });
    // A signal that stays retracted (an opinion on it) is not in any mirror: nothing to send.
    const staysRetracted = row.status === 'retracted' && signal.status === 'retracted';
    if (this.appendChanges && !staysRetracted) {
      this.q.insertChange.run(row.id, signal.status === 'retracted' ? 'delete' : 'upsert', at, JSON.stringify(feedSignal(signal)));
    }
    return signal;
  }

  /** Feed rows with `seq > after`, oldest first. */
  changes(after: number, limit: number): ChangeRow[] {
    return this.q.changesAfter.all(after, limit);
  }

  lastChangeSeq(): number {
    return this.q.lastChangeSeq.get()?.seq ?? 0;
  }

  get(signalId: string, viewer: string | undefined): SignalWithOwnPart | undefined {
    const row = this.q.byPublicId.get(signalId);
    return row && this.withOwnPart(row, viewer);
  }

  find(type: SignalTypeName, hash: string, viewer: string | undefined): SignalWithOwnPart | undefined {
    const row = this.q.byTypeHash.get(type, Buffer.from(hash, 'hex'));
    return row && this.withOwnPart(row, viewer);
  }

  byRowIds(rowIds: readonly number[]): Map<number, SignalRecord> {
    const found = new Map<number, SignalRecord>();
    if (rowIds.length === 0) return found;
    if (rowIds.length === 1) {
      const row = this.q.byRowId.get(rowIds[0]!);
      if (row) found.set(row.id, toRecord(row));
      return found;
    }
    for (const row of this.q.byRowIds.all(JSON.stringify(rowIds))) found.set(row.id, toRecord(row));
    return found;
  }

  *indexEntries(type: SignalTypeName, batchSize: number): Generator<IndexEntryBatch> {
    if (this.q.typeHasLiveSignals.get(type) === undefined) return;
    yield* indexEntryBatches((after, limit) => this.q.indexPage.get(after, type, limit)!, batchSize);
  }

  private withOwnPart(row: SignalRow, viewer: string | undefined): SignalWithOwnPart {
    const signal = toRecord(row);
    if (viewer === undefined) return { signal, mine: undefined };
    const submission = this.q.submission.get(row.id, viewer);
    const opinion = this.q.opinion.get(row.id, viewer);
    if (!submission && !opinion) return { signal, mine: undefined };
    const mine: OwnPart = {
      ...(submission && {
        submission: {
          status: submission.status,
          labels: JSON.parse(submission.labels) as string[],
          media: submission.media,
          ...(submission.quality !== null && { quality: submission.quality }),
          ...(submission.ref !== null && { ref: submission.ref }),
          submittedAt: submission.created_at,
          updatedAt: submission.updated_at,
        },
      }),
      ...(opinion && {
        opinion: {
          verdict: opinion.verdict,
          ...(opinion.labels !== null && { labels: JSON.parse(opinion.labels) as string[] }),
          ...(opinion.reason !== null && { reason: opinion.reason }),
          updatedAt: opinion.updated_at,
        },
      }),
    };
    return { signal, mine };
  }
}
