/**
 * Counts match queries and hits per member and hour for transparency reports, as requests are
 * served. Counts gather in memory and are written to the store every few seconds and at
 * shutdown, so lookups never wait for a disk write; query hashes are never recorded.
 */
import type { Logger } from 'pino';
import type { MatchCount, Store } from '../store/store.js';

const FLUSH_MS = 5000;

export class MatchCounter {
  private pending = new Map<string, MatchCount>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Pick<Store, 'addMatchCounts'>,
    private readonly clock: () => number,
    private readonly logger?: Logger,
  ) {}

  count(memberId: string, queries: number, hits: number): void {
    const hour = `${new Date(this.clock()).toISOString().slice(0, 13)}:00:00.000Z`;
    const key = `${memberId}\u0000${hour}`;
    const current = this.pending.get(key);
    this.pending.set(key, { memberId, hour, queries: (current?.queries ?? 0) + queries, hits: (current?.hits ?? 0) + hits });
  }

  start(): void {
    this.timer = setInterval(() => {
      this.flush().catch((error: unknown) => this.logger?.error({ err: error }, 'writing match counts failed'));
    }, FLUSH_MS);
    this.timer.unref();
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const counts = [...this.pending.values()];
    this.pending = new Map();
    await this.store.addMatchCounts(counts);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
