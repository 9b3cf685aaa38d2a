/**
 * Runs batch matching jobs in the background, one chunk of queries at a time: the oldest
 * running job first (one resumed after a restart), then the oldest queued. A chunk goes through
 * `Bank.match` — the very code `POST /v1/match` uses, so a job line's matches equal what that
 * route answers (`includeDisputed` false, retracted signals never) — whose index search runs on
 * the index's worker threads over every core. Its results are recorded, and its queries deleted,
 * in one transaction, so a restart continues from the first unanswered line. The next chunk is
 * handed to the workers before the current one is recorded, so the search threads stay busy
 * while this thread writes. Between chunks and between the steps of a chunk the runner yields to
 * the event loop, so requests interleave; a chunk is small enough that an interactive batch waits
 * at most one chunk for the workers.
 */
import type { Logger } from 'pino';
import type { Bank, ItemResult, Match, ValidQuery } from '../bank/bank.js';
import type { MatchCounter } from '../audit/match-counter.js';
import type { ServiceMetrics } from '../api/metrics.js';
import { isSignalbankError } from '../errors.js';
import type { SignalTypeName } from '../signals/signal-type.js';
import type { JobRecord, ResultLine, SqliteJobStore, StoredQuery } from './job-store.js';
import { errorLine, matchesLine } from './result-lines.js';

export interface JobRunnerOptions {
  /** Queries matched per chunk. */
  readonly chunkSize: number;
  /** Do not start the background loop (operators draining a node; tests step by hand). */
  readonly paused: boolean;
  /** How often an idle runner looks for work it was not woken for. */
  readonly idlePollMs?: number;
}

/** Progress of a job this process is running: lines per second since it picked the job up. */
export interface JobProgress {
  readonly rate: number | null;
  readonly eta: number | null;
}

/** A chunk handed to the matcher: its queries and their answers to come. */
interface MatchingChunk {
  readonly rowId: number;
  readonly queries: readonly StoredQuery[];
  readonly answers: Promise<ItemResult<Match[]>[]>;
}

interface RunTrack {
  readonly startedMs: number;
  readonly doneAtStart: number;
  done: number;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class JobRunner {
  private running: Promise<void> | undefined;
  private stopping = false;
  private wakeUp: (() => void) | undefined;
  private readonly tracks = new Map<number, RunTrack>();
  /** The next chunk of the job in progress, already matching. */
  private prefetched: MatchingChunk | undefined;

  constructor(
    private readonly store: SqliteJobStore,
    private readonly bank: Bank,
    private readonly metrics: ServiceMetrics,
    private readonly counter: MatchCounter,
    private readonly logger: Logger,
    private readonly options: JobRunnerOptions,
  ) {}

  /** Starts the background loop unless configured paused. */
  start(): void {
    if (this.options.paused || this.running) return;
    this.stopping = false;
    this.running = this.loop();
  }

  /** A job was queued or cancelled: look at the queue now. */
  wake(): void {
    this.wakeUp?.();
  }

  /** Finishes the chunk in progress (its results are committed) and stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.running;
    this.running = undefined;
  }

  progress(job: JobRecord): JobProgress {
    const track = this.tracks.get(job.rowId);
    if (job.status !== 'running' || !track) return { rate: null, eta: null };
    const seconds = (performance.now() - track.startedMs) / 1000;
    const answered = track.done - track.doneAtStart;
    if (seconds <= 0 || answered <= 0) return { rate: null, eta: null };
    const rate = answered / seconds;
    return { rate: Math.round(rate * 10) / 10, eta: Math.ceil((job.total - job.done) / rate) };
  }

  /**
   * Does one unit of work — starts, advances by one chunk, or finishes the next runnable job.
   * Answers false when there was nothing to do. The background loop calls it repeatedly.
   */
  async step(): Promise<boolean> {
    const job = this.store.nextRunnable();
    if (!job) return false;
    if (job.status === 'queued') {
      this.store.markRunning(job.rowId);
      return true;
    }
    let chunk = this.prefetched?.rowId === job.rowId ? this.prefetched : undefined;
    this.prefetched = undefined;
    if (!chunk) {
      const queries = this.store.pendingQueries(job.rowId, this.options.chunkSize);
      if (queries.length === 0) {
        this.finish(job);
        return true;
      }
      chunk = this.startMatching(job, queries);
    }
    const { queries } = chunk;
    if (!this.tracks.has(job.rowId)) this.tracks.set(job.rowId, { startedMs: performance.now(), doneAtStart: job.done, done: job.done });
    let answers;
    try {
      answers = await chunk.answers;
    } catch (error) {
      const reason = isSignalbankError(error) ? error.toItemError() : { code: 'ERR_INTERNAL', message: 'Matching failed; the service logged why' };
      this.logger.error({ err: error, job: job.id }, 'job matching failed');
      this.store.finish(job.rowId, 'failed', reason);
      this.tracks.delete(job.rowId);
      return true;
    }
    // The workers take the next chunk while this one is recorded.
    const next = this.store.pendingQueries(job.rowId, this.options.chunkSize, queries.at(-1)!.line);
    if (next.length > 0) this.prefetched = this.startMatching(job, next);
    await yieldToEventLoop();
    const lines: ResultLine[] = [];
    const hitsByType = new Map<string, { queries: number; hits: number }>();
    let hits = 0;
    queries.forEach((query, i) => {
      const answer = answers[i]!;
      if (!answer.ok) {
        lines.push({ line: query.line, result: errorLine(query.line, query.ref, answer.error) });
        return;
      }
      lines.push({ line: query.line, result: matchesLine(query.line, query.ref, answer.value) });
      const byType = hitsByType.get(query.type) ?? { queries: 0, hits: 0 };
      byType.queries++;
      byType.hits += answer.value.length;
      hitsByType.set(query.type, byType);
      hits += answer.value.length;
    });
    await yieldToEventLoop();
    if (!this.store.recordResults(job.rowId, lines, queries.at(-1)!.line)) {
      // Cancelled (or finished elsewhere) while this chunk was matched: nothing is recorded.
      this.tracks.delete(job.rowId);
      this.prefetched = undefined;
      return true;
    }
    for (const [type, counts] of hitsByType) {
      this.metrics.jobQueries.inc({ type }, counts.queries);
      if (counts.hits > 0) this.metrics.matches.inc({ type }, counts.hits);
    }
    this.counter.count(job.memberId, lines.length, hits);
    const track = this.tracks.get(job.rowId);
    if (track) track.done = job.done + lines.length;
    return true;
  }

  private startMatching(job: JobRecord, queries: readonly StoredQuery[]): MatchingChunk {
    const valid: ItemResult<ValidQuery>[] = queries.map((query) => ({
      ok: true,
      value: { type: query.type as SignalTypeName, hash: query.hash, maxDistance: query.maxDistance },
    }));
    const answers = this.bank.match(valid, { limit: job.limit, includeDisputed: false });
    // Awaited by the step that records it; a chunk dropped (cancel, shutdown) must not go unhandled.
    answers.catch(() => undefined);
    return { rowId: job.rowId, queries, answers };
  }

  private finish(job: JobRecord): void {
    this.tracks.delete(job.rowId);
    if (job.done === job.total) {
      this.store.finish(job.rowId, 'done');
      this.logger.info({ job: job.id, total: job.total }, 'job done');
      return;
    }
    // Never silently short: a job whose lines do not all have a result is failed, saying so.
    const missing = job.total - job.done;
    this.store.finish(job.rowId, 'failed', { code: 'ERR_INTERNAL', message: `${missing} of ${job.total} lines have no result; submit the job again` });
    this.logger.error({ job: job.id, missing }, 'job lines missing');
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      let worked = false;
      try {
        worked = await this.step();
      } catch (error) {
        this.logger.error({ err: error }, 'job runner step failed');
      }
      if (this.stopping) break;
      if (worked) await yieldToEventLoop();
      else await this.idle();
    }
  }

  private idle(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.options.idlePollMs ?? 1000);
      timer.unref();
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = undefined;
        done();
      };
    });
  }
}
