/**
 * Removes what jobs leave behind, in bounded steps with a yield to the event loop between them
 * so that removing ten million lines never blocks requests: the query blocks a cancelled or failed
 * job will never run (the result lines of their refused lines are kept), uploads that were refused or never acknowledged, and — once a finished job is
 * older than the retention time — the job and its results. A periodic sweep does the first and
 * the last; the ingester calls `remove` for a refused upload.
 */
import type { Logger } from 'pino';
import type { SqliteJobStore } from './job-store.js';

/** Blocks of lines (up to `SIGNALBANK_JOB_CHUNK` lines each, 512 by default) deleted per transaction. */
const STEP_BLOCKS = 64;

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export interface RetentionOptions {
  /** Finished jobs and their results are removed this long after they finished. */
  readonly retentionMs: number;
  readonly sweepIntervalMs: number;
}

export class JobRetention {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<number> | undefined;

  constructor(
    private readonly store: SqliteJobStore,
    private readonly clock: () => number,
    private readonly logger: Logger,
    private readonly options: RetentionOptions,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.sweep().catch((error: unknown) => this.logger.error({ err: error }, 'job retention sweep failed'));
    }, this.options.sweepIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping?.catch(() => undefined);
  }

  /** Removes a job and everything stored for it. */
  async remove(rowId: number): Promise<void> {
    while (!(await this.store.removeStep(rowId, STEP_BLOCKS))) await yieldToEventLoop();
  }

  /** One sweep (never two at once); answers how many jobs it removed. */
  sweep(): Promise<number> {
    this.sweeping ??= this.sweepNow().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private async sweepNow(): Promise<number> {
    for (const rowId of this.store.finishedJobsWithQueries()) {
      while ((await this.store.settleQueryBlocks(rowId, STEP_BLOCKS)) > 0) await yieldToEventLoop();
    }
    const before = new Date(this.clock() - this.options.retentionMs).toISOString();
    const expired = this.store.expiredJobs(before);
    for (const rowId of expired) await this.remove(rowId);
    if (expired.length > 0) this.logger.info({ removed: expired.length }, 'expired jobs removed');
    return expired.length;
  }
}
