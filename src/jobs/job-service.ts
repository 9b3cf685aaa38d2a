/**
 * Batch matching jobs as one part of the service: the job store on the service's database, the
 * streaming ingester, the background runner and the retention sweep, and what the routes need
 * — create (stream in, verify, commit), status, results in line order, cancel, list. At start,
 * uploads that were never acknowledged are removed; queued and running jobs are simply picked up
 * again by the runner, from their first unanswered line.
 */
import type { Logger } from 'pino';
import type { Bank } from '../bank/bank.js';
import type { MatchCounter } from '../audit/match-counter.js';
import type { ServiceMetrics } from '../api/metrics.js';
import type { Config } from '../config.js';
import { ConflictError, NotFoundError } from '../errors.js';
import type { SqliteDatabase } from '../store/sqlite/database.js';
import type { WriteTurns } from '../store/sqlite/write-turns.js';
import type { AuditOrigin } from '../store/store.js';
import { JobIngester } from './job-ingester.js';
import { JobRetention } from './job-retention.js';
import { JobRunner, type ForegroundActivity } from './job-runner.js';
import { SqliteJobStore, type JobRecord } from './job-store.js';

/** Lines written per ingest transaction (~3 MB of JSON at ~100 bytes a line). */
export const INGEST_BATCH_LINES = 32_768;
/** Blocks of result lines read per page of a results download. */
const PAGE_BLOCKS = 16;

export interface JobView {
  readonly id: string;
  readonly status: JobRecord['status'];
  readonly done: number;
  readonly total: number;
  readonly errorLines: number;
  readonly limit: number;
  readonly rate: number | null;
  readonly eta: number | null;
  readonly createdAt: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly error?: { code: string; message: string };
}

export interface JobServiceDependencies {
  readonly db: SqliteDatabase;
  /** The store's turns to write (`SqliteStore.writes`). */
  readonly writes: WriteTurns;
  readonly bank: Bank;
  readonly config: Config;
  readonly metrics: ServiceMetrics;
  readonly counter: MatchCounter;
  readonly logger: Logger;
  readonly clock: () => number;
  /** The API's requests in flight: the runner's steps wait for a moment without one. */
  readonly foreground?: ForegroundActivity;
}

export class JobService {
  readonly store: SqliteJobStore;
  readonly runner: JobRunner;
  readonly retention: JobRetention;
  private readonly ingester: JobIngester;
  private readonly metrics: ServiceMetrics;

  constructor(deps: JobServiceDependencies) {
    const { db, writes, bank, config, metrics, counter, logger, clock, foreground } = deps;
    this.metrics = metrics;
    this.store = new SqliteJobStore(db, clock, writes);
    this.retention = new JobRetention(this.store, clock, logger, { retentionMs: config.jobRetentionMs, sweepIntervalMs: config.jobSweepIntervalMs });
    this.ingester = new JobIngester(this.store, bank, { maxLines: config.jobMaxLines, maxLineBytes: config.jobMaxLineBytes, blockLines: config.jobChunkSize, batchLines: INGEST_BATCH_LINES }, (rowId) =>
      this.retention.remove(rowId),
    );
    this.runner = new JobRunner(this.store, bank, metrics, counter, logger, {
      searchBatch: config.jobSearchBatch,
      paused: config.jobRunnerPaused,
      ...(foreground && { foreground }),
    });
  }

  /** Removes unacknowledged uploads, then starts the runner and the sweep. */
  async start(): Promise<void> {
    for (const rowId of this.store.receivingJobs()) await this.retention.remove(rowId);
    this.runner.start();
    this.retention.start();
  }

  async stop(): Promise<void> {
    await this.runner.stop();
    await this.retention.stop();
  }

  /**
   * Streams a job body in, checks the request's body digest once it is read, and commits the
   * job (durable, with its audit entry) — or removes everything stored for it and throws.
   */
  async create(memberId: string, limit: number, chunks: AsyncIterable<Buffer>, verifyBody: () => Promise<void>, origin: AuditOrigin): Promise<JobView> {
    const received = await this.ingester.receive(memberId, limit, chunks);
    let job: JobRecord;
    try {
      await verifyBody();
      job = await this.store.commitReceived(received.rowId, received.total, received.errorLines, origin);
    } catch (error) {
      await this.retention.remove(received.rowId);
      throw error;
    }
    this.metrics.jobLines.inc({ result: 'query' }, received.total - received.errorLines);
    if (received.errorLines > 0) this.metrics.jobLines.inc({ result: 'refused' }, received.errorLines);
    this.runner.wake();
    return this.view(job);
  }

  /** The caller's job; another member's is `ERR_NOT_FOUND`, exactly like a missing one. */
  get(id: string, memberId: string): JobRecord {
    const job = this.store.get(id, memberId);
    if (!job) throw new NotFoundError(`No job ${id}`);
    return job;
  }

  list(memberId: string, limit: number): JobView[] {
    return this.store.list(memberId, limit).map((job) => this.view(job));
  }

  async cancel(id: string, memberId: string, origin: AuditOrigin): Promise<JobView> {
    const job = await this.store.cancel(id, memberId, origin);
    this.runner.wake();
    void this.retention.sweep().catch(() => undefined);
    return this.view(job);
  }

  /**
   * The result lines of a finished job in line order, one page at a time (constant memory).
   * A queued or running job is `ERR_CONFLICT`: its results are served once it has finished.
   */
  results(id: string, memberId: string): AsyncGenerator<string> {
    const job = this.get(id, memberId);
    if (job.status === 'queued' || job.status === 'running') {
      throw new ConflictError(`Job ${id} is ${job.status} (${job.done} of ${job.total} lines); its results are served once it is done`);
    }
    return this.resultPages(job.rowId);
  }

  private async *resultPages(rowId: number): AsyncGenerator<string> {
    let after = 0;
    for (;;) {
      const page = this.store.resultPage(rowId, after, PAGE_BLOCKS);
      if (!page) return;
      yield page.text;
      after = page.lastLine;
    }
  }

  view(job: JobRecord): JobView {
    const { rate, eta } = this.runner.progress(job);
    return {
      id: job.id,
      status: job.status,
      done: job.done,
      total: job.total,
      errorLines: job.errorLines,
      limit: job.limit,
      rate,
      eta: job.status === 'done' ? 0 : eta,
      createdAt: job.createdAt,
      ...(job.startedAt !== null && { startedAt: job.startedAt }),
      ...(job.finishedAt !== null && { finishedAt: job.finishedAt }),
      ...(job.error !== null && { error: job.error }),
    };
  }
}
