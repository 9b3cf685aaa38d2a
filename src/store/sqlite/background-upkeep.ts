/**
 * Runs the store's upkeep worker beside the service (src/store/sqlite/upkeep-worker.ts): audit
 * entries are committed with their changes on the request path and hashed into the Merkle tree
 * moments later on the other core, and the write-ahead log is checkpointed there too, so the
 * service's own connection stops checkpointing while the worker runs and resumes if it stops.
 * Reads of the tree still catch up first, so nothing depends on the worker's timing.
 */
import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { startWorker } from '../../runtime/worker-script.js';
import type { SqliteDatabase } from './database.js';

const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;

export interface UpkeepOptions {
  readonly logger?: Logger;
  readonly pollMs?: number;
  readonly checkpointMs?: number;
}

export class BackgroundUpkeep {
  private constructor(
    private readonly worker: Worker,
    private readonly db: SqliteDatabase,
  ) {}

  /** Starts the worker for the database that `db` (the service's connection) has open. */
  static start(db: SqliteDatabase, options: UpkeepOptions = {}): BackgroundUpkeep {
    const worker = startWorker(import.meta.url, 'upkeep-worker', {
      workerData: { dbPath: db.name, pollMs: options.pollMs ?? 20, checkpointMs: options.checkpointMs ?? 1000 },
    });
    const upkeep = new BackgroundUpkeep(worker, db);
    db.pragma('wal_autocheckpoint = 0');
    worker.on('message', (message: { type: string; message?: string }) => {
      if (message.type === 'error') options.logger?.error({ error: message.message }, 'a store upkeep step failed');
    });
    worker.on('error', (error) => options.logger?.error({ err: error }, 'the store upkeep worker stopped'));
    worker.on('exit', () => upkeep.restoreCheckpointing());
    worker.unref();
    return upkeep;
  }

  async stop(): Promise<void> {
    const stopped = new Promise<void>((resolve) => {
      this.worker.once('message', () => resolve());
      this.worker.once('exit', () => resolve());
    });
    this.worker.postMessage({ type: 'stop' });
    await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, 2000))]);
    await this.worker.terminate();
    this.restoreCheckpointing();
  }

  /** Without the worker the service's connection checkpoints again, so the log never grows unbounded. */
  private restoreCheckpointing(): void {
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
  }
}
