/**
 * Persistence of batch matching jobs on the service's SQLite database (migrations 0003, 0004): the
 * job rows, and the job's lines in blocks of consecutive lines — query blocks still to run, result
 * blocks answered. Every method is one transaction on the service's connection; those that write
 * take their turn among the store's writes (`SqliteStore.writes`). The invariants
 * that make jobs survive a restart:
 * - a job is `receiving` until its whole body is stored; only then does it become `queued`, in
 *   the same transaction as its `job.create` audit entry — that commit precedes the 202 answer;
 * - a block's results are inserted, its query block deleted and `done` advanced in one
 *   transaction, so the query blocks left are exactly the unfinished lines, whenever the process
 *   stops; result and query blocks never overlap, and together they hold every line of the job.
 * Cancelling appends `job.cancel` in the same transaction. Removal (a refused upload, the
 * retention sweep) deletes in bounded steps so that no single transaction blocks for long.
 */
import { ConflictError, NotFoundError } from '../errors.js';
import { withoutSync, type SqliteDatabase } from '../store/sqlite/database.js';
import { WriteTurns } from '../store/sqlite/write-turns.js';
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

/**
 * Lines `firstLine`..`lastLine` of a job as read from its body: the valid queries and the result
 * lines of the refused ones, each in line order; together exactly the block's lines.
 */
export interface QueryBlock {
  readonly firstLine: number;
  readonly lastLine: number;
  readonly queries: readonly StoredQuery[];
  readonly refused: readonly ResultLine[];
}

/** A page of result text (NDJSON, each line ending in a newline) and the last line it covers. */
export interface ResultPage {
  readonly text: string;
  readonly lastLine: number;
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

interface QueryBlockRow {
  first_line: number;
  last_line: number;
  lines: string;
}

/** How a query block's lines are kept (column `lines`): compact arrays, not one object per line. */
interface EncodedBlock {
  q: [line: number, type: string, hash: string, maxDistance: number, ref: string | null][];
  r: [line: number, result: string][];
}

function encodeBlock(block: QueryBlock): string {
  const encoded: EncodedBlock = {
    q: block.queries.map((query) => [query.line, query.type, query.hash, query.maxDistance, query.ref]),
    r: block.refused.map((line) => [line.line, line.result]),
  };
  return JSON.stringify(encoded);
}

function decodeBlock(row: QueryBlockRow): QueryBlock {
  const encoded = JSON.parse(row.lines) as EncodedBlock;
  return {
    firstLine: row.first_line,
    lastLine: row.last_line,
    queries: encoded.q.map(([line, type, hash, maxDistance, ref]) => ({ line, type, hash, maxDistance, ref })),
    refused: encoded.r.map(([line, result]) => ({ line, result })),
  };
}

/** The result lines of a block's refused lines, each ending in a newline. */
function refusedText(block: QueryBlock): string {
  let text = '';
  for (const line of block.refused) text += `${line.result}\n`;
  return text;
}

/** SQL deleting a job's first `@max` blocks of `table` (`@job`): one bounded step of a removal. */
function deleteFirstBlocks(table: 'job_query_blocks' | 'job_result_blocks'): string {
  return `DELETE FROM ${table} WHERE job_id = @job AND first_line <= (SELECT max(first_line) FROM
    (SELECT first_line FROM ${table} WHERE job_id = @job ORDER BY first_line LIMIT @max))`;
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
    /** The store's turns to write (`SqliteStore.writes`), so that a job's writes never meet the submit writer's lock. */
    private readonly writes: WriteTurns = new WriteTurns(),
  ) {
    this.audit = new SqliteAuditLog(db);
    this.q = {
      insertJob: db.prepare<[string, string, number, string]>(
        `INSERT INTO jobs (public_id, member_id, status, match_limit, created_at) VALUES (?, ?, 'receiving', ?, ?)`,
      ),
      insertQueryBlock: db.prepare<[number, number, number, number, string]>(
        'INSERT INTO job_query_blocks (job_id, first_line, last_line, refused, lines) VALUES (?, ?, ?, ?, ?)',
      ),
      insertResultBlock: db.prepare<[number, number, number, number, string]>(
        'INSERT INTO job_result_blocks (job_id, first_line, last_line, lines, results) VALUES (?, ?, ?, ?, ?)',
      ),
      byRowId: db.prepare<[number], JobRow>('SELECT * FROM jobs WHERE id = ?'),
      byPublicId: db.prepare<[string], JobRow>(`SELECT * FROM jobs WHERE public_id = ? AND status <> 'receiving'`),
      byMember: db.prepare<[string, number], JobRow>(`SELECT * FROM jobs WHERE member_id = ? AND status <> 'receiving' ORDER BY id DESC LIMIT ?`),
      markQueued: db.prepare<[number, number, number, string, number]>(
        `UPDATE jobs SET status = 'queued', total = ?, error_lines = ?, done = ?, created_at = ? WHERE id = ? AND status = 'receiving'`,
      ),
      nextRunnable: db.prepare<[], JobRow>(`SELECT * FROM jobs WHERE status IN ('running', 'queued') ORDER BY status = 'queued', id LIMIT 1`),
      markRunning: db.prepare<[string, number]>(`UPDATE jobs SET status = 'running', started_at = coalesce(started_at, ?) WHERE id = ? AND status IN ('queued', 'running')`),
      pending: db.prepare<[number, number, number], QueryBlockRow>(
        'SELECT first_line, last_line, lines FROM job_query_blocks WHERE job_id = ? AND first_line > ? ORDER BY first_line LIMIT ?',
      ),
      deleteQueryBlock: db.prepare<[number, number]>('DELETE FROM job_query_blocks WHERE job_id = ? AND first_line = ?'),
      advance: db.prepare<[number, number]>(`UPDATE jobs SET done = done + ? WHERE id = ? AND status = 'running'`),
      finish: db.prepare<[string, string, string | null, number]>(`UPDATE jobs SET status = ?, finished_at = ?, error = ? WHERE id = ? AND status IN ('queued', 'running')`),
      // Answered blocks, and the refused lines of blocks a finished job never ran, in line order.
      resultBlocksAfter: db.prepare<{ job: number; after: number; max: number }, { first_line: number; last_line: number; answered: number; text: string }>(
        `SELECT first_line, last_line, 1 AS answered, results AS text FROM job_result_blocks WHERE job_id = @job AND first_line > @after
         UNION ALL
         SELECT first_line, last_line, 0 AS answered, lines AS text FROM job_query_blocks WHERE job_id = @job AND first_line > @after AND refused > 0
         ORDER BY first_line LIMIT @max`,
      ),
      receiving: db.prepare<[], { id: number }>(`SELECT id FROM jobs WHERE status = 'receiving'`),
      expired: db.prepare<[string], { id: number }>(`SELECT id FROM jobs WHERE status IN ('done', 'failed', 'cancelled') AND finished_at < ?`),
      finishedWithQueries: db.prepare<[], { id: number }>(
        `SELECT j.id FROM jobs j WHERE j.status IN ('done', 'failed', 'cancelled') AND EXISTS (SELECT 1 FROM job_query_blocks q WHERE q.job_id = j.id)`,
      ),
      deleteSomeQueryBlocks: db.prepare<{ job: number; max: number }>(deleteFirstBlocks('job_query_blocks')),
      deleteSomeResultBlocks: db.prepare<{ job: number; max: number }>(deleteFirstBlocks('job_result_blocks')),
      deleteJob: db.prepare<[number]>('DELETE FROM jobs WHERE id = ?'),
      countByStatus: db.prepare<[], { status: string; n: number }>(`SELECT status, count(*) AS n FROM jobs GROUP BY status`),
    };
  }

  private now(): string {
    return new Date(this.clock()).toISOString();
  }

  /** Starts a job whose body is about to be read: invisible and never run until `commitReceived`. */
  beginReceiving(memberId: string, limit: number): Promise<{ rowId: number; id: string }> {
    return this.writes.onThisConnection(() => {
      const id = newPublicId();
      const rowId = Number(this.q.insertJob.run(id, memberId, limit, this.now()).lastInsertRowid);
      return { rowId, id };
    });
  }

  /**
   * Stores blocks of read lines (valid queries to run, the results of refused lines) of a job being
   * received, in one transaction. Committed without waiting for the disk (`synchronous=NORMAL`):
   * these rows count for nothing until `commitReceived`, whose `synchronous=FULL` commit syncs the
   * write-ahead log — and with it every frame written before, these included — before the upload
   * is acknowledged; a crash before that leaves a `receiving` job, removed at start.
   */
  appendBlocks(rowId: number, blocks: readonly QueryBlock[]): Promise<void> {
    return this.writes.onThisConnection(() => {
      withoutSync(this.db, () =>
        this.db
          .transaction(() => {
            for (const block of blocks) this.q.insertQueryBlock.run(rowId, block.firstLine, block.lastLine, block.refused.length, encodeBlock(block));
          })
          .immediate(),
      );
    });
  }

  /** Makes a received job durable and runnable, with its `job.create` audit entry. */
  commitReceived(rowId: number, total: number, errorLines: number, origin: AuditOrigin): Promise<JobRecord> {
    return this.writes.onThisConnection(() => {
      return this.db
        .transaction(() => {
          const at = this.now();
          if (this.q.markQueued.run(total, errorLines, errorLines, at, rowId).changes !== 1) throw new ConflictError('The job is no longer being received');
          const row = this.q.byRowId.get(rowId)!;
          this.audit.appender(origin).append('job.create', row.public_id, { total, errorLines, limit: row.match_limit }, at);
          return toRecord(row);
        })
        .immediate();
    });
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
  cancel(id: string, memberId: string, origin: AuditOrigin): Promise<JobRecord> {
    return this.writes.onThisConnection(() => {
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
    });
  }

  /** The job to work on next: a running one (resumed after a restart) first, then the oldest queued. */
  nextRunnable(): JobRecord | undefined {
    const row = this.q.nextRunnable.get();
    return row ? toRecord(row) : undefined;
  }

  markRunning(rowId: number): Promise<boolean> {
    return this.writes.onThisConnection(() => this.q.markRunning.run(this.now(), rowId).changes === 1);
  }

  /** The next unanswered blocks of a job, those starting after line `afterLine`, in line order. */
  pendingBlocks(rowId: number, limit: number, afterLine = 0): QueryBlock[] {
    return this.q.pending.all(rowId, afterLine, limit).map(decodeBlock);
  }

  /**
   * Records a block's results — `results`, every line of the block in line order, each ending in
   * a newline — deletes its query block and counts its queries as done, in one transaction;
   * answers false (recording nothing) when the job is no longer running. Committed without
   * waiting for the disk (`synchronous=NORMAL`): a power cut can undo only whole transactions, and
   * undone, this one leaves the block's queries in place, so the block runs again at restart. The
   * job's `synchronous=FULL` end (`finish`) syncs every block recorded before it.
   */
  recordBlock(rowId: number, block: QueryBlock, results: string): Promise<boolean> {
    return this.writes.onThisConnection(() => {
      return withoutSync(this.db, () =>
        this.db
          .transaction(() => {
            if (this.q.advance.run(block.queries.length, rowId).changes !== 1) return false;
            if (this.q.deleteQueryBlock.run(rowId, block.firstLine).changes !== 1) {
              throw new Error(`Job ${rowId} has no query block at line ${block.firstLine}`);
            }
            this.q.insertResultBlock.run(rowId, block.firstLine, block.lastLine, block.queries.length + block.refused.length, results);
            return true;
          })
          .immediate(),
      );
    });
  }

  /** Ends a queued or running job as done or failed. */
  finish(rowId: number, status: 'done' | 'failed', error?: JobError): Promise<boolean> {
    return this.writes.onThisConnection(() => this.q.finish.run(status, this.now(), error === undefined ? null : JSON.stringify(error), rowId).changes === 1);
  }

  /**
   * The result text of up to `maxBlocks` blocks starting after line `afterLine`, in line order:
   * answered blocks, and the refused lines of blocks a finished job will never run. Undefined
   * when there is nothing after `afterLine`.
   */
  resultPage(rowId: number, afterLine: number, maxBlocks: number): ResultPage | undefined {
    const rows = this.q.resultBlocksAfter.all({ job: rowId, after: afterLine, max: maxBlocks });
    if (rows.length === 0) return undefined;
    let text = '';
    for (const row of rows) text += row.answered === 1 ? row.text : refusedText(decodeBlock({ first_line: row.first_line, last_line: row.last_line, lines: row.text }));
    return { text, lastLine: rows.at(-1)!.last_line };
  }

  /** Jobs whose upload never completed (the service stopped while receiving). */
  receivingJobs(): number[] {
    return this.q.receiving.all().map((row) => row.id);
  }

  /** Finished jobs that ended before `before` (RFC 3339). */
  expiredJobs(before: string): number[] {
    return this.q.expired.all(before).map((row) => row.id);
  }

  /** Finished (cancelled, failed) jobs that still hold query blocks they will never run. */
  finishedJobsWithQueries(): number[] {
    return this.q.finishedWithQueries.all().map((row) => row.id);
  }

  /**
   * Settles up to `max` blocks a finished job will never run, in one transaction: the result lines
   * of their refused lines are kept as result blocks, their queries dropped. Answers how many.
   */
  settleQueryBlocks(rowId: number, max: number): Promise<number> {
    return this.writes.onThisConnection(() => {
      return this.db
        .transaction(() => {
          const blocks = this.pendingBlocks(rowId, max);
          for (const block of blocks) {
            if (block.refused.length > 0) this.q.insertResultBlock.run(rowId, block.firstLine, block.lastLine, block.refused.length, refusedText(block));
            this.q.deleteQueryBlock.run(rowId, block.firstLine);
          }
          return blocks.length;
        })
        .immediate();
    });
  }

  /**
   * One bounded step of removing a job: up to `max` query blocks, then result blocks, then the job
   * row. Answers true when the job is gone.
   */
  removeStep(rowId: number, max: number): Promise<boolean> {
    return this.writes.onThisConnection(() => {
      return this.db
        .transaction(() => {
          let left = max - this.q.deleteSomeQueryBlocks.run({ job: rowId, max }).changes;
          if (left > 0) left -= this.q.deleteSomeResultBlocks.run({ job: rowId, max: left }).changes;
          if (left <= 0) return false;
          this.q.deleteJob.run(rowId);
          return true;
        })
        .immediate();
    });
  }

  countByStatus(): Record<string, number> {
    return Object.fromEntries(this.q.countByStatus.all().map((row) => [row.status, row.n]));
  }
}
