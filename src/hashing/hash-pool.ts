/**
 * A pool of hashing worker threads (`hash-worker`), one per core by default, so that many files
 * are decoded and hashed in parallel. Requests queue in order and go to the next idle worker;
 * each promise settles with that file's hashes or its coded error. A worker that dies (e.g. out
 * of memory) fails only its current file with `ERR_INTERNAL` and is replaced — unless workers
 * keep dying without answering anything, when the pool fails what is queued instead of
 * restarting them forever.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { InputError, OperationError } from '../errors.js';
import { startWorker } from '../runtime/worker-script.js';
import { fromWireError, type HashReply, type HashRequest } from './hash-messages.js';
import type { ResolvedHashOptions } from './hash-options.js';
import type { ImageHashes } from './image-hasher.js';

/** Worker deaths without a single answer in between after which the pool gives up. */
const MAX_DEATHS_IN_A_ROW = 3;

interface PendingTask {
  readonly request: HashRequest;
  readonly resolve: (result: ImageHashes) => void;
  readonly reject: (error: Error) => void;
}

interface PoolSlot {
  worker: Worker;
  task: PendingTask | undefined;
}

export interface HashPoolOptions {
  /** Number of worker threads; default `os.availableParallelism()`. */
  readonly size?: number;
}

export class HashPool {
  readonly size: number;
  private readonly slots: PoolSlot[] = [];
  private readonly queue: PendingTask[] = [];
  private nextId = 1;
  private closed = false;
  private deathsInARow = 0;

  constructor(options: HashPoolOptions = {}) {
    const size = options.size ?? availableParallelism();
    if (!Number.isSafeInteger(size) || size < 1) {
      throw new InputError('ERR_VALIDATION', `Expected a positive integer for the pool size but received ${String(size)}`);
    }
    this.size = size;
    for (let i = 0; i < size; i++) this.slots.push(this.startSlot());
  }

  hash(path: string, options: ResolvedHashOptions): Promise<ImageHashes> {
    if (this.closed) return Promise.reject(new OperationError('ERR_UNAVAILABLE', 'The hash pool is closed'));
    return new Promise<ImageHashes>((resolve, reject) => {
      this.queue.push({ request: { id: this.nextId++, path, options }, resolve, reject });
      this.dispatch();
    });
  }

  /** Stops every worker; queued and running requests fail with `ERR_UNAVAILABLE`. */
  async close(): Promise<void> {
    this.closed = true;
    const error = new OperationError('ERR_UNAVAILABLE', 'The hash pool was closed');
    for (const task of this.queue.splice(0)) task.reject(error);
    await Promise.all(
      this.slots.map(async (slot) => {
        slot.task?.reject(error);
        slot.task = undefined;
        await slot.worker.terminate();
      }),
    );
  }

  private startSlot(): PoolSlot {
    const slot: PoolSlot = { worker: startWorker(import.meta.url, 'hash-worker'), task: undefined };
    this.listen(slot);
    return slot;
  }

  private listen(slot: PoolSlot): void {
    const { worker } = slot;
    worker.on('message', (reply: HashReply) => {
      const task = slot.task;
      if (task === undefined || task.request.id !== reply.id) return;
      slot.task = undefined;
      this.deathsInARow = 0;
      if ('error' in reply) task.reject(fromWireError(reply.error));
      else task.resolve(reply.result);
      this.dispatch();
    });
    const replace = (reason: string): void => {
      if (this.closed || slot.worker !== worker) return;
      const task = slot.task;
      slot.task = undefined;
      task?.reject(new OperationError('ERR_INTERNAL', `The hashing worker stopped while hashing ${task.request.path}: ${reason}`));
      if (++this.deathsInARow > MAX_DEATHS_IN_A_ROW) {
        // Workers die without finishing anything: they cannot start here. Fail what is queued.
        this.closed = true;
        const error = new OperationError('ERR_INTERNAL', `The hashing workers keep stopping (${reason})`);
        for (const queued of this.queue.splice(0)) queued.reject(error);
        return;
      }
      slot.worker = startWorker(import.meta.url, 'hash-worker');
      this.listen(slot);
      this.dispatch();
    };
    worker.on('error', (error) => replace(error.message));
    worker.on('exit', (code) => replace(`exit code ${code}`));
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.task !== undefined) continue;
      const task = this.queue.shift()!;
      slot.task = task;
      slot.worker.postMessage(task.request);
    }
  }
}
