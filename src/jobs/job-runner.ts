/**
 * Runs batch matching jobs in the background, one chunk of queries at a time: the oldest
 * running job first (one resumed after a restart), then the oldest queued. A chunk goes through
 * `Bank.match` — the very code `POST /v1/match` uses, so a job line's matches equal what that
 * route answers (`includeDisputed` false, retracted signals never) — whose index search runs on
 * the index's worker threads over every core. Its results are recorded, and its queries deleted,
 * in one transaction, so a restart continues from the first unanswered line.
 * Throughput: up to `PIPELINE_DEPTH` chunks are handed to the search workers ahead of the one
 * being recorded, so the workers always have queued work while this thread builds result lines
 * and writes. Latency of the API: the work this thread does per chunk is split into short
 * synchronous steps, and before each one the runner waits (at most `FOREGROUND_WAIT_MS`) until
 * no request is in flight, so that a request is rarely queued behind job work.
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
  /** Queries matched, and recorded in one transaction, per chunk. */
  readonly chunkSize: number;
  /** Do not start the background loop (operators draining a node; tests step by hand). */
  readonly paused: boolean;
  /** How often an idle runner looks for work it was not woken for. */
  readonly idlePollMs?: number;
  /** The API's requests in flight, which the runner's steps wait for (none: steps run at once). */
  readonly foreground?: ForegroundActivity;
}

/** What the runner defers to: it waits for a moment without requests before each step. */
export interface ForegroundActivity {
  whenQuiet(maxWaitMs: number): Promise<void>;
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

/** Chunks handed to the search workers ahead of the one being recorded. */
const PIPELINE_DEPTH = 3;
/** Longest a step waits for the API to have no request in flight before it runs anyway. */
const FOREGROUND_WAIT_MS = 10;

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class JobRunner {
  private running: Promise<void> | undefined;
  private stopping = false;
  private wakeUp: (() => void) | undefined;
  private readonly tracks = new Map<number, RunTrack>();
  /** The next chunks of the job in progress, in line order, already handed to the matcher. */
  private matching: MatchingChunk[] = [];

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
    this.matching = [];
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
    if (this.matching[0]?.rowId !== job.rowId) this.matching = [];
    if (this.matching.length === 0) this.handOut(job, undefined);
    const chunk = this.matching.shift();
    if (!chunk) {
      this.finish(job);
      return true;
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
      this.matching = [];
      return true;
    }
    // The workers take the next chunks while this one is recorded.
    await this.foregroundQuiet();
    this.handOut(job, chunk);
    await this.foregroundQuiet();
    const lines: ResultLine[] = new Array<ResultLine>(queries.length);
    const hitsByType = new Map<string, { queries: number; hits: number }>();
    let hits = 0;
    queries.forEach((query, i) => {
      const answer = answers[i]!;
      if (!answer.ok) {
        lines[i] = { line: query.line, result: errorLine(query.line, query.ref, answer.error) };
        return;
      }
      lines[i] = { line: query.line, result: matchesLine(query.line, query.ref, answer.value) };
      const byType = hitsByType.get(query.type) ?? { queries: 0, hits: 0 };
      byType.queries++;
      byType.hits += answer.value.length;
      hitsByType.set(query.type, byType);
      hits += answer.value.length;
    });
    await this.foregroundQuiet();
    if (!this.store.recordResults(job.rowId, lines, queries.at(-1)!.line)) {
      // Cancelled (or finished elsewhere) while this chunk was matched: nothing is recorded.
      this.tracks.delete(job.rowId);
      this.matching = [];
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

  /** Waits, briefly, until no API request is in flight; at least lets queued events run. */
  private foregroundQuiet(): Promise<void> {
    return this.options.foreground?.whenQuiet(FOREGROUND_WAIT_MS) ?? yieldToEventLoop();
  }

  /**
   * Tops up the chunks handed to the matcher to `PIPELINE_DEPTH` beyond `current` (the chunk
   * being recorded, whose queries are still stored), reading the queries after the last line handed out.
   */
  private handOut(job: JobRecord, current: MatchingChunk | undefined): void {
    while (this.matching.length < PIPELINE_DEPTH + (current ? 0 : 1)) {
      const last = this.matching.at(-1) ?? current;
      const queries = this.store.pendingQueries(job.rowId, this.options.chunkSize, last ? last.queries.at(-1)!.line : 0);
      if (queries.length === 0) return;
      this.matching.push(this.startMatching(job, queries));
    }
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
