/**
 * Runs batch matching jobs in the background: the oldest running job first (one resumed after a
 * restart), then the oldest queued. Its queries go through `Bank.match` in its two halves — the
 * very code `POST /v1/match` uses, so a job line's matches equal what that route answers
 * (`includeDisputed` false, retracted signals never): `Bank.search` of a search batch
 * (stored blocks of consecutive lines adding up to `searchBatch` queries, on the index's worker
 * threads over every core, large enough for the batched search to pay), then, a block (up to
 * `SIGNALBANK_JOB_CHUNK` lines, as the ingester stored it) at a time, `Bank.resolve` reads the
 * matched signals and the block's results are recorded, and its query block deleted, in one
 * transaction, so a restart continues from the first unanswered block.
 * Throughput: up to `PIPELINE_DEPTH` search batches are handed to the workers ahead of the one
 * being recorded, so the workers always have queued work while this thread records. Latency of
 * the API: what this thread does per block is split into short synchronous steps — read a block,
 * decode its hashes into the batch being prepared (`Bank.prepareQueries`), hand out a batch,
 * resolve a part, build the text, record — and before each one the runner waits (at most
 * `FOREGROUND_WAIT_MS`) until no request is in flight, so that a request is rarely queued behind
 * job work; the search batches are the threads' work at low priority (`SIGNALBANK_SEARCH_NICENESS`).
 */
import type { Logger } from 'pino';
import type { Bank, ItemResult, Match, SearchedBatch, ValidQuery } from '../bank/bank.js';
import type { MatchCounter } from '../audit/match-counter.js';
import type { ServiceMetrics } from '../api/metrics.js';
import { asCodedError } from '../errors.js';
import type { SignalTypeName } from '../signals/signal-type.js';
import type { JobRecord, QueryBlock, SqliteJobStore } from './job-store.js';
import { errorLine, matchesLine } from './result-lines.js';

export interface JobRunnerOptions {
  /** Queries searched at once on the search threads (whole stored blocks: at least this many, or the rest of the job). */
  readonly searchBatch: number;
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

/** A search batch handed to the matcher: its blocks, their index hits to come, and how many are recorded. */
interface SearchBatch {
  readonly rowId: number;
  readonly blocks: readonly QueryBlock[];
  readonly searched: Promise<SearchedBatch>;
  /** Where each block's first query is in the batch's queries (`Bank.resolve` answers by position). */
  readonly firstQuery: readonly number[];
  /** Blocks recorded. */
  recorded: number;
}

interface RunTrack {
  readonly startedMs: number;
  readonly doneAtStart: number;
  done: number;
}

/** Search batches handed to the search workers, counting the one being recorded. */
const PIPELINE_DEPTH = 3;
/**
 * Queries whose matched signals are read (`Bank.resolve`) in one go: 128 of a block's 512, ~0.5 ms
 * of the request thread each, so that a single match arriving meanwhile waits for one part.
 */
const RESOLVE_PART = 128;
/** Longest a step waits for the API to have no request in flight before it runs anyway. */
const FOREGROUND_WAIT_MS = 10;

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class JobRunner {
  private running: Promise<void> | undefined;
  private stopping = false;
  private wakeUp: (() => void) | undefined;
  private readonly tracks = new Map<number, RunTrack>();
  /** The next search batches of the job in progress, in line order, already handed to the matcher. */
  private matching: SearchBatch[] = [];

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

  /** Finishes the block in progress (its results are committed) and stops. */
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
   * Does one unit of work — starts, records one block of, or finishes the next runnable job.
   * Answers false when there was nothing to do. The background loop calls it repeatedly.
   */
  async step(): Promise<boolean> {
    const job = this.store.nextRunnable();
    if (!job) return false;
    if (job.status === 'queued') {
      await this.store.markRunning(job.rowId);
      return true;
    }
    if (this.matching[0]?.rowId !== job.rowId) this.matching = [];
    if (this.matching.length === 0) await this.handOut(job);
    const batch = this.matching[0];
    if (!batch) {
      await this.finish(job);
      return true;
    }
    if (!this.tracks.has(job.rowId)) this.tracks.set(job.rowId, { startedMs: performance.now(), doneAtStart: job.done, done: job.done });
    const block = batch.blocks[batch.recorded]!;
    const from = batch.firstQuery[batch.recorded]!;
    const to = from + block.queries.length;
    let answers: ItemResult<Match[]>[];
    try {
      const searched = await batch.searched;
      // The workers take the next batches while this one is recorded.
      if (batch.recorded === 0) await this.handOut(job);
      answers = [];
      // In parts, each after the API's requests in flight: a lookup waits for one part at most.
      for (let part = from; part < to; part += RESOLVE_PART) {
        await this.foregroundQuiet();
        answers.push(...(await this.bank.resolve(searched, part, Math.min(to, part + RESOLVE_PART))));
      }
    } catch (error) {
      const reason = asCodedError(error).toClientItemError();
      this.logger.error({ err: error, job: job.id }, 'job matching failed');
      await this.store.finish(job.rowId, 'failed', reason);
      this.tracks.delete(job.rowId);
      this.matching = [];
      return true;
    }
    await this.foregroundQuiet();
    // The block's result lines in line order: its answered queries and its refused lines.
    let results = '';
    let refused = 0;
    const hitsByType = new Map<string, { queries: number; hits: number }>();
    let hits = 0;
    block.queries.forEach((query, i) => {
      while (refused < block.refused.length && block.refused[refused]!.line < query.line) results += `${block.refused[refused++]!.result}\n`;
      const answer = answers[i]!;
      if (!answer.ok) {
        results += `${errorLine(query.line, query.ref, answer.error)}\n`;
        return;
      }
      results += `${matchesLine(query.line, query.ref, answer.value)}\n`;
      const byType = hitsByType.get(query.type) ?? { queries: 0, hits: 0 };
      byType.queries++;
      byType.hits += answer.value.length;
      hitsByType.set(query.type, byType);
      hits += answer.value.length;
    });
    while (refused < block.refused.length) results += `${block.refused[refused++]!.result}\n`;
    await this.foregroundQuiet();
    if (!(await this.store.recordBlock(job.rowId, block, results))) {
      // Cancelled (or finished elsewhere) while this block was matched: nothing is recorded.
      this.tracks.delete(job.rowId);
      this.matching = [];
      return true;
    }
    batch.recorded++;
    if (batch.recorded === batch.blocks.length) this.matching.shift();
    for (const [type, counts] of hitsByType) {
      this.metrics.jobQueries.inc({ type }, counts.queries);
      if (counts.hits > 0) this.metrics.matches.inc({ type }, counts.hits);
    }
    this.counter.count(job.memberId, block.queries.length, hits);
    const track = this.tracks.get(job.rowId);
    if (track) track.done = job.done + block.queries.length;
    return true;
  }

  /** Waits, briefly, until no API request is in flight; at least lets queued events run. */
  private foregroundQuiet(): Promise<void> {
    return this.options.foreground?.whenQuiet(FOREGROUND_WAIT_MS) ?? yieldToEventLoop();
  }

  /**
   * Tops up the search batches handed to the matcher to `PIPELINE_DEPTH`, reading the blocks
   * after the last one handed out (the batch being recorded counts: its blocks are still stored)
   * a block at a time, each read a step of its own.
   */
  private async handOut(job: JobRecord): Promise<void> {
    while (this.matching.length < PIPELINE_DEPTH) {
      let after = this.matching.at(-1)?.blocks.at(-1)!.firstLine ?? 0;
      const blocks: QueryBlock[] = [];
      const firstQuery: number[] = [];
      const prepared = this.bank.prepareQueries();
      while (prepared.queries.length < this.options.searchBatch) {
        await this.foregroundQuiet();
        const block = this.store.pendingBlocks(job.rowId, 1, after)[0];
        if (!block) break;
        blocks.push(block);
        after = block.firstLine;
        // Decoded as read: handing out the batch then costs the request thread next to nothing.
        await this.foregroundQuiet();
        firstQuery.push(prepared.queries.length);
        prepared.add(block.queries.map((query): ItemResult<ValidQuery> => ({ ok: true, value: { type: query.type as SignalTypeName, hash: query.hash, maxDistance: query.maxDistance } })));
      }
      if (blocks.length === 0) return;
      await this.foregroundQuiet();
      const searched = this.bank.search(prepared, { limit: job.limit, includeDisputed: false });
      // Awaited by the step that records it; a batch dropped (cancel, shutdown) must not go unhandled.
      searched.catch(() => undefined);
      this.matching.push({ rowId: job.rowId, blocks, searched, firstQuery, recorded: 0 });
    }
  }

  private async finish(job: JobRecord): Promise<void> {
    this.tracks.delete(job.rowId);
    if (job.done === job.total) {
      await this.store.finish(job.rowId, 'done');
      this.logger.info({ job: job.id, total: job.total }, 'job done');
      return;
    }
    // Never silently short: a job whose lines do not all have a result is failed, saying so.
    const missing = job.total - job.done;
    await this.store.finish(job.rowId, 'failed', { code: 'ERR_INTERNAL', message: `${missing} of ${job.total} lines have no result; submit the job again` });
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
