/**
 * Publishes signed checkpoints of the signal log: on request (an auditor always gets a head
 * covering every entry committed so far), and in the background every `everyEntries` entries or
 * `everyMs` milliseconds when the log has grown. Each checkpoint is stored, so that any later
 * one can be proven consistent with every head ever handed out.
 */
import type { Logger } from 'pino';
import type { Checkpoint, Store } from '../store/store.js';
import { signCheckpoint, type LogSigningKey } from './checkpoint.js';

export interface PublisherOptions {
  readonly everyEntries: number;
  readonly everyMs: number;
  readonly clock: () => number;
  readonly logger?: Logger;
}

const POLL_MS = 1000;

export class CheckpointPublisher {
  private latest: Checkpoint | undefined;
  private publishing: Promise<Checkpoint> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Pick<Store, 'auditTreeHead' | 'saveCheckpoint' | 'latestCheckpoint'>,
    private readonly key: LogSigningKey,
    private readonly options: PublisherOptions,
  ) {}

  /** A checkpoint covering the whole log as it is now (signed anew if the log grew). */
  async current(): Promise<Checkpoint> {
    this.latest ??= await this.store.latestCheckpoint();
    const head = await this.store.auditTreeHead();
    if (this.latest?.treeSize === head.treeSize && this.latest.rootHash === head.rootHash) return this.latest;
    return this.publish();
  }

  start(): void {
    this.timer = setInterval(() => {
      this.tick().catch((error: unknown) => this.options.logger?.error({ err: error }, 'checkpoint publishing failed'));
    }, POLL_MS);
    this.timer.unref();
  }

  /** Stops the timer and publishes a last checkpoint if the log grew. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.current();
  }

  private async tick(): Promise<void> {
    this.latest ??= await this.store.latestCheckpoint();
    const head = await this.store.auditTreeHead();
    const last = this.latest;
    if (last && head.treeSize === last.treeSize) return;
    const grownBy = head.treeSize - (last?.treeSize ?? 0);
    const age = this.options.clock() - (last ? Date.parse(last.timestamp) : 0);
    if (grownBy >= this.options.everyEntries || age >= this.options.everyMs) await this.publish();
  }

  private publish(): Promise<Checkpoint> {
    this.publishing ??= (async () => {
      try {
        const head = await this.store.auditTreeHead();
        const checkpoint = await signCheckpoint(head, new Date(this.options.clock()).toISOString(), this.key);
        await this.store.saveCheckpoint(checkpoint);
        this.latest = checkpoint;
        return checkpoint;
      } finally {
        this.publishing = undefined;
      }
    })();
    return this.publishing;
  }
}
