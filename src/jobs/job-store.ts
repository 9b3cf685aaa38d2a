/**
 * Persistence of batch matching jobs on the service's SQLite database (migration 0003): the job
 * rows, the queries still to run and the result lines. Every method is one transaction on the
 * service's connection. The invariants that make jobs survive a restart:
 * - a job is `receiving` until its whole body is stored; only then does it become `queued`, in
 *   the same transaction as its `job.create` audit entry — that commit precedes the 202 answer;
 * - a chunk's results are inserted, its queries deleted and `done` advanced in one transaction,
 *   so the queries left are exactly the unfinished lines, whenever the process stops.
 * Cancelling appends `job.cancel` in the same transaction. Removal (a refused upload, the
 * retention sweep) deletes in bounded steps so that no single transaction blocks for long.
 */
import { ConflictError, NotFoundError } from '../errors.js';
import type { SqliteDatabase } from '../store/sqlite/database.js';
import { newPublicId } from '../store/public-id.js';
import { SqliteAuditLog } from '../store/sqlite/sqlite-audit.js';
import type { AuditOrigin } from '../store/store.js';

export const JOB_STATUSES = ['queued', 'running', 'done', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export interface JobError {
  readonly code: string;
  readonly message: string;
}

export interface JobRecord {
  /** Internal row id; never leaves the service. */
  readonly rowId: number;
  readonly id: string;
  readonly memberId: string;
  readonly status: JobStatus;
  readonly limit: number;
  readonly total: number;
  readonly done: number;
  readonly errorLines: number;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly error: JobError | null;
}

/** A valid, normalised query waiting to run. */
export interface StoredQuery {
  readonly line: number;
  readonly type: string;
  readonly hash: string;
  readonly maxDistance: number;
  readonly ref: string | null;
}

/** One result line (NDJSON text without the newline). */
export interface ResultLine {
  readonly line: number;
  readonly result: string;
}

interface JobRow {
  id: number;
  public_id: string;
  member_id: string;
  status: JobStatus | 'receiving';
  match_limit: number;
  total: number;
  done: number;
  error_lines: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  error: string | null;
}

interface QueryRow {
  line: number;
  type: string;
  hash: string;
  max_distance: number;
  ref: string | null;
}

const TERMINAL: readonly JobStatus[] = ['done', 'failed', 'cancelled'];

export const isTerminal = (status: JobStatus): boolean => TERMINAL.includes(status);

function toRecord(row: JobRow): JobRecord {
  return {
    rowId: row.id,
    id: row.public_id,
    memberId: row.member_id,
    status: row.status === 'receiving' ? 'queued' : row.status,
    limit: row.match_limit,
    total: row.total,
    done: row.done,
    errorLines: row.error_lines,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    error: row.error === null ? null : (JSON.parse(row.error) as JobError),
  };
}

export class SqliteJobStore {
  private readonly q;
  private readonly audit: SqliteAuditLog;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly clock: () => number,
  ) {
    this.audit = new SqliteAuditLog(db);
    this.q = {
      insertJob: db.prepare<[string, string, number, string]>(
        `INSERT INTO jobs (public_id, member_id, status, match_limit, created_at) VALUES (?, ?, 'receiving', ?, ?)`,
      ),
      insertQuery: db.prepare<[number, number, string, string, number, string | null]>(
        'INSERT INTO job_queries (job_id, line, type, hash, max_distance, ref) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      insertResult: db.prepare<[number, number, string]>('INSERT INTO job_results (job_id, line, result) VALUES (?, ?, ?)'),
      byRowId: db.prepare<[number], JobRow>('SELECT * FROM jobs WHERE id = ?'),
      byPublicId: db.prepare<[string], JobRow>(`SELECT * FROM jobs WHERE public_id = ? AND status <> 'receiving'`),
      byMember: db.prepare<[string, number], JobRow>(`SELECT * FROM jobs WHERE member_id = ? AND status <> 'receiving' ORDER BY id DESC LIMIT ?`),
      markQueued: db.prepare<[number, number, number, string, number]>(
        `UPDATE jobs SET status = 'queued', total = ?, error_lines = ?, done = ?, created_at = ? WHERE id = ? AND status = 'receiving'`,
      ),
      nextRunnable: db.prepare<[], JobRow>(`SELECT * FROM jobs WHERE status IN ('running', 'queued') ORDER BY status = 'queued', id LIMIT 1`),
      markRunning: db.prepare<[string, number]>(`UPDATE jobs SET status = 'running', started_at = coalesce(started_at, ?) WHERE id = ? AND status IN ('queued', 'running')`),
      pending: db.prepare<[number, number, number], QueryRow>('SELECT line, type, hash, max_distance, ref FROM job_queries WHERE job_id = ? AND line > ? ORDER BY line LIMIT ?'),
      deleteQueriesThrough: db.prepare<[number, number]>('DELETE FROM job_queries WHERE job_id = ? AND line <= ?'),
      advance: db.prepare<[number, number]>(`UPDATE jobs SET done = done + ? WHERE id = ? AND status = 'running'`),
      finish: db.prepare<[string, string, string | null, number]>(`UPDATE jobs SET status = ?, finished_at = ?, error = ? WHERE id = ? AND status IN ('queued', 'running')`),
      resultsAfter: db.prepare<[number, number, number], ResultLine>('SELECT line, result FROM job_results WHERE job_id = ? AND line > ? ORDER BY line LIMIT ?'),
      receiving: db.prepare<[], { id: number }>(`SELECT id FROM jobs WHERE status = 'receiving'`),
      expired: db.prepare<[string], { id: number }>(`SELECT id FROM jobs WHERE status IN ('done', 'failed', 'cancelled') AND finished_at < ?`),
      finishedWithQueries: db.prepare<[], { id: number }>(
        `SELECT j.id FROM jobs j WHERE j.status IN ('done', 'failed', 'cancelled') AND EXISTS (SELECT 1 FROM job_queries q WHERE q.job_id = j.id)`,
      ),
      deleteSomeQueries: db.prepare<{ job: number; max: number }>(
        'DELETE FROM job_queries WHERE job_id = @job AND line <= (SELECT max(line) FROM (SELECT line FROM job_queries WHERE job_id = @job ORDER BY line LIMIT @max))',
      ),
      deleteSomeResults: db.prepare<{ job: number; max: number }>(
        'DELETE FROM job_results WHERE job_id = @job AND line <= (SELECT max(line) FROM (SELECT line FROM job_results WHERE job_id = @job ORDER BY line LIMIT @max))',
      ),
      deleteJob: db.prepare<[number]>('DELETE FROM jobs WHERE id = ?'),
      countByStatus: db.prepare<[], { status: string; n: number }>(`SELECT status, count(*) AS n FROM jobs GROUP BY status`),
    };
  }

  private now(): string {
    return new Date(this.clock()).toISOString();
  }

  /** Starts a job whose body is about to be read: invisible and never run until `commitReceived`. */
  beginReceiving(memberId: string, limit: number): { rowId: number; id: string } {
    const id = newPublicId();
    const rowId = Number(this.q.insertJob.run(id, memberId, limit, this.now()).lastInsertRowid);
    return { rowId, id };
  }

  /** Stores a batch of read lines: valid queries to run, and the result lines of refused ones. */
  appendLines(rowId: number, queries: readonly StoredQuery[], refused: readonly ResultLine[]): void {
    this.db
      .transaction(() => {
        for (const query of queries) this.q.insertQuery.run(rowId, query.line, query.type, query.hash, query.maxDistance, query.ref);
        for (const line of refused) this.q.insertResult.run(rowId, line.line, line.result);
      })
      .immediate();
  }

  /** Makes a received job durable and runnable, with its `job.create` audit entry. */
  commitReceived(rowId: number, total: number, errorLines: number, origin: AuditOrigin): JobRecord {
    return this.db
      .transaction(() => {
        const at = this.now();
        if (this.q.markQueued.run(total, errorLines, errorLines, at, rowId).changes !== 1) throw new ConflictError('The job is no longer being received');
        const row = this.q.byRowId.get(rowId)!;
        this.audit.appender(origin).append('job.create', row.public_id, { total, errorLines, limit: row.match_limit }, at);
        return toRecord(row);
      })
      .immediate();
  }

  /** The caller's job; another member's job is not found (its existence does not leak). */
  get(id: string, memberId: string): JobRecord | undefined {
    const row = this.q.byPublicId.get(id);
    return row && row.member_id === memberId ? toRecord(row) : undefined;
  }

  byRowId(rowId: number): JobRecord | undefined {
    const row = this.q.byRowId.get(rowId);
    return row && row.status !== 'receiving' ? toRecord(row) : undefined;
  }

  /** The member's jobs, newest first. */
  list(memberId: string, limit: number): JobRecord[] {
    return this.q.byMember.all(memberId, limit).map(toRecord);
  }

  /** Cancels a queued or running job of the caller, with its `job.cancel` audit entry. */
  cancel(id: string, memberId: string, origin: AuditOrigin): JobRecord {
    return this.db
      .transaction(() => {
        const job = this.get(id, memberId);
        if (!job) throw new NotFoundError(`No job ${id}`);
        if (isTerminal(job.status)) throw new ConflictError(`Job ${id} is already ${job.status}`);
        const at = this.now();
        this.q.finish.run('cancelled', at, null, job.rowId);
        this.audit.appender(origin).append('job.cancel', job.id, { done: job.done, total: job.total }, at);
        return toRecord(this.q.byRowId.get(job.rowId)!);
      })
      .immediate();
  }

  /** The job to work on next: a running one (resumed after a restart) first, then the oldest queued. */
  nextRunnable(): JobRecord | undefined {
    const row = this.q.nextRunnable.get();
    return row ? toRecord(row) : undefined;
  }

  markRunning(rowId: number): boolean {
    return this.q.markRunning.run(this.now(), rowId).changes === 1;
  }

  /** The next unfinished queries of a job after line `afterLine`, in line order. */
  pendingQueries(rowId: number, limit: number, afterLine = 0): StoredQuery[] {
    return this.q.pending.all(rowId, afterLine, limit).map((row) => ({ line: row.line, type: row.type, hash: row.hash, maxDistance: row.max_distance, ref: row.ref }));
  }

  /**
   * Records the results of queries up to `lastLine` and deletes those queries, in one
   * transaction; answers false (recording nothing) when the job is no longer running.
   */
  recordResults(rowId: number, results: readonly ResultLine[], lastLine: number): boolean {
    return this.db
      .transaction(() => {
        if (this.q.advance.run(results.length, rowId).changes !== 1) return false;
        for (const result of results) this.q.insertResult.run(rowId, result.line, result.result);
        this.q.deleteQueriesThrough.run(rowId, lastLine);
        return true;
      })
      .immediate();
  }

  /** Ends a queued or running job as done or failed. */
  finish(rowId: number, status: 'done' | 'failed', error?: JobError): boolean {
    return this.q.finish.run(status, this.now(), error === undefined ? null : JSON.stringify(error), rowId).changes === 1;
  }

  /** Result lines after `afterLine`, in line order. */
  resultsAfter(rowId: number, afterLine: number, limit: number): ResultLine[] {
    return this.q.resultsAfter.all(rowId, afterLine, limit);
  }

  /** Jobs whose upload never completed (the service stopped while receiving). */
  receivingJobs(): number[] {
    return this.q.receiving.all().map((row) => row.id);
  }

  /** Finished jobs that ended before `before` (RFC 3339). */
  expiredJobs(before: string): number[] {
    return this.q.expired.all(before).map((row) => row.id);
  }

  /** Finished (cancelled, failed) jobs that still hold queries they will never run. */
  finishedJobsWithQueries(): number[] {
    return this.q.finishedWithQueries.all().map((row) => row.id);
  }

  /** Deletes up to `max` left-over queries of a job; answers how many. */
  deleteQueries(rowId: number, max: number): number {
    return this.q.deleteSomeQueries.run({ job: rowId, max }).changes;
  }

  /**
   * One bounded step of removing a job: up to `max` queries, then results, then the job row.
   * Answers true when the job is gone.
   */
  removeStep(rowId: number, max: number): boolean {
    return this.db
      .transaction(() => {
        let left = max - this.q.deleteSomeQueries.run({ job: rowId, max }).changes;
        if (left > 0) left -= this.q.deleteSomeResults.run({ job: rowId, max: left }).changes;
        if (left <= 0) return false;
        this.q.deleteJob.run(rowId);
        return true;
      })
      .immediate();
  }

  countByStatus(): Record<string, number> {
    return Object.fromEntries(this.q.countByStatus.all().map((row) => [row.status, row.n]));
  }
}
