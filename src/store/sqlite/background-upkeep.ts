/**
 * Runs the store's upkeep worker beside the service (src/store/sqlite/upkeep-worker.ts): audit
 * entries are committed with their changes on the request path and hashed into Merkle tree rows
 * moments later on the other core; the rows come back here and the store records them
 * (`recordAuditChunks`: on the submit writer's connection when it has one, in their turn), in a
 * transaction that does not wait for the disk (the tree is derived from entries that already
 * did); the worker never writes. The write-ahead log is checkpointed by the worker too, so the
 * store's connections stop checkpointing while the worker runs and resume if it stops. Reads of
 * the tree still catch up first, so nothing depends on the worker's timing.
 */
import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { startWorker } from '../../runtime/worker-script.js';
import type { WireHashedChunks } from './sqlite-audit.js';
import type { SqliteStore } from './sqlite-store.js';

/** Messages from the worker. */
type UpkeepMessage = { type: 'error'; message: string } | { type: 'stopped' } | { type: 'chunks'; chunks: WireHashedChunks };

const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;

export interface UpkeepOptions {
  readonly logger?: Logger;
  readonly pollMs?: number;
  readonly checkpointMs?: number;
}

export class BackgroundUpkeep {
  private constructor(
    private readonly worker: Worker,
    private readonly store: SqliteStore,
  ) {}

  /** Starts the worker for the database `store` (the service's) has open. */
  static start(store: SqliteStore, options: UpkeepOptions = {}): BackgroundUpkeep {
    const worker = startWorker(import.meta.url, 'upkeep-worker', {
      workerData: { dbPath: store.db.name, pollMs: options.pollMs ?? 20, checkpointMs: options.checkpointMs ?? 0 },
    });
    const upkeep = new BackgroundUpkeep(worker, store);
    store.setAutoCheckpoint(0);
    worker.on('message', (message: UpkeepMessage) => {
      if (message.type === 'error') options.logger?.error({ error: message.message }, 'a store upkeep step failed');
      if (message.type === 'chunks') {
        // Not recorded (a gap: another connection recorded some first), or failed: hash again from what the tree holds.
        store.recordAuditChunks(message.chunks).then(
          (recorded) => recorded || worker.postMessage({ type: 'resync' }),
          (error: unknown) => {
            options.logger?.error({ err: error }, 'recording audit tree rows failed');
            worker.postMessage({ type: 'resync' });
          },
        );
      }
    });
    worker.on('error', (error) => options.logger?.error({ err: error }, 'the store upkeep worker stopped'));
    worker.on('exit', () => upkeep.restoreCheckpointing());
    worker.unref();
    return upkeep;
  }

  async stop(): Promise<void> {
    const stopped = new Promise<void>((resolve) => {
      this.worker.on('message', (message: UpkeepMessage) => message.type === 'stopped' && resolve());
      this.worker.once('exit', () => resolve());
    });
    this.worker.postMessage({ type: 'stop' });
    // At most 2 s for its last step; the timer is cleared, or it alone would keep the process up that long.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([stopped, new Promise((resolve) => (timer = setTimeout(resolve, 2000)))]);
    clearTimeout(timer);
    await this.worker.terminate();
    this.restoreCheckpointing();
  }

  /** Without the worker the service's connection checkpoints again, so the log never grows unbounded. */
  private restoreCheckpointing(): void {
    this.store.setAutoCheckpoint(DEFAULT_AUTOCHECKPOINT_PAGES);
  }
}
