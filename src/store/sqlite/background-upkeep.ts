/**
 * Runs the store's upkeep worker beside the service (src/store/sqlite/upkeep-worker.ts): audit
 * entries are committed with their changes on the request path and hashed into Merkle tree rows
 * moments later on the other core; the rows come back here and the service's connection — the
 * only writer — records them between requests, in a transaction that does not wait for the disk
 * (the tree is derived from entries that already did). The write-ahead log is checkpointed by the
 * worker too, so the service's connection stops checkpointing while the worker runs and resumes
 * if it stops. Reads of the tree still catch up first, so nothing depends on the worker's timing.
 */
import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { startWorker } from '../../runtime/worker-script.js';
import { MerkleFrontier, type SubtreeNode } from '../../audit/merkle-tree.js';
import { withoutSync, type SqliteDatabase } from './database.js';
import { SqliteAuditLog, type HashedChunks } from './sqlite-audit.js';

/** Messages from the worker. */
type UpkeepMessage =
  | { type: 'error'; message: string }
  | { type: 'stopped' }
  | {
      type: 'chunks';
      first: number;
      leaves: Uint8Array[];
      nodes: { level: number; index: number; hash: Uint8Array }[];
      frontier: { size: number; roots: Uint8Array[] };
    };

const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** Tree rows as posted by the worker (buffers arrive as plain Uint8Arrays). */
function hashedChunksFrom(message: Extract<UpkeepMessage, { type: 'chunks' }>): HashedChunks {
  return {
    first: message.first,
    leaves: message.leaves.map(asBuffer),
    nodes: message.nodes.map((node): SubtreeNode => ({ level: node.level, index: node.index, hash: asBuffer(node.hash) })),
    frontier: new MerkleFrontier(message.frontier.size, message.frontier.roots.map(asBuffer)),
  };
}

const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;

export interface UpkeepOptions {
  readonly logger?: Logger;
  readonly pollMs?: number;
  readonly checkpointMs?: number;
}

export class BackgroundUpkeep {
  private readonly log: SqliteAuditLog;

  private constructor(
    private readonly worker: Worker,
    private readonly db: SqliteDatabase,
  ) {
    this.log = new SqliteAuditLog(db);
  }

  /** Starts the worker for the database that `db` (the service's connection) has open. */
  static start(db: SqliteDatabase, options: UpkeepOptions = {}): BackgroundUpkeep {
    const worker = startWorker(import.meta.url, 'upkeep-worker', {
      workerData: { dbPath: db.name, pollMs: options.pollMs ?? 20, checkpointMs: options.checkpointMs ?? 0 },
    });
    const upkeep = new BackgroundUpkeep(worker, db);
    db.pragma('wal_autocheckpoint = 0');
    worker.on('message', (message: UpkeepMessage) => {
      if (message.type === 'error') options.logger?.error({ error: message.message }, 'a store upkeep step failed');
      if (message.type === 'chunks') {
        try {
          upkeep.record(hashedChunksFrom(message));
        } catch (error) {
          options.logger?.error({ err: error }, 'recording audit tree rows failed');
          worker.postMessage({ type: 'resync' });
        }
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
    await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, 2000))]);
    await this.worker.terminate();
    this.restoreCheckpointing();
  }

  /** Records the worker's tree rows on the service's connection; asks it to start over on a gap. */
  private record(hashed: HashedChunks): void {
    if (!this.db.open) return;
    if (this.db.inTransaction) {
      this.worker.postMessage({ type: 'resync' });
      return;
    }
    if (!withoutSync(this.db, () => this.db.transaction(() => this.log.recordChunks(hashed)).immediate())) this.worker.postMessage({ type: 'resync' });
  }

  /** Without the worker the service's connection checkpoints again, so the log never grows unbounded. */
  private restoreCheckpointing(): void {
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
  }
}
