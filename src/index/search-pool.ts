/**
 * The worker threads behind `searchMany`. Workers start on first use, each bound to its own lane
 * of the index memory (worker k uses lane k + 1), and are unreferenced while idle so that an
 * index never keeps a process alive. Every worker takes part in every batch, and all share one
 * cursor over its queries. Batches are handed to the workers as they come, without waiting for
 * the one before to finish: each worker answers its requests in order, so a worker done with its
 * part of one batch goes on to the next instead of waiting for the slowest at every batch's end.
 */
import type { Worker } from 'node:worker_threads';
import { OperationError } from '../errors.js';
import { startWorker } from '../runtime/worker-script.js';
import type { SearchAnswer, SearchRequest, SearchResponse, SearchSnapshot } from './search-protocol.js';

export class SearchPool {
  private workers: Worker[] = [];
  /** Requests each worker has not answered yet (it is referenced while there are any). */
  private readonly pending = new Map<Worker, number>();
  private nextRequestId = 1;

  /** `niceness` > 0 lowers the workers' scheduling priority (Linux; best effort). */
  constructor(
    readonly size: number,
    private readonly niceness = 0,
  ) {}

  /** Ranked sort keys for every query, in query order (see `SearchAnswer`). */
  async run(snapshot: SearchSnapshot, queries: Uint8Array, maxDistance: number, limit: number): Promise<Float64Array[]> {
    const queryCount = queries.length / 32;
    const shared = new Uint8Array(new SharedArrayBuffer(Math.max(32, queries.length)));
    shared.set(queries);
    const cursor = new Int32Array(new SharedArrayBuffer(4));
    const id = this.nextRequestId++;
    while (this.workers.length < this.size) this.workers.push(startWorker(import.meta.url, 'search-worker', { workerData: { niceness: this.niceness } }));
    const answers = await Promise.all(
      this.workers.map((worker, k) => {
        const request: SearchRequest = { id, snapshot, lane: k + 1, queries: shared, queryCount, workers: this.workers.length, maxDistance, limit: Number.isFinite(limit) ? limit : -1, cursor };
        return this.ask(worker, request);
      }),
    );
    const results = new Array<Float64Array>(queryCount);
    for (const answer of answers) {
      let offset = 0;
      answer.queryIndexes.forEach((queryIndex, i) => {
        const count = answer.counts[i]!;
        results[queryIndex] = answer.keys.subarray(offset, offset + count);
        offset += count;
      });
    }
    return results;
  }

  private ask(worker: Worker, request: SearchRequest): Promise<SearchAnswer> {
    return new Promise<SearchAnswer>((resolve, reject) => {
      const cleanup = (): void => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        const left = (this.pending.get(worker) ?? 1) - 1;
        if (left > 0) this.pending.set(worker, left);
        else {
          this.pending.delete(worker);
          worker.unref();
        }
      };
      const onMessage = (response: SearchResponse): void => {
        if (response.id !== request.id) return; // a late answer to a batch that already failed
        cleanup();
        if ('answer' in response) resolve(response.answer);
        else reject(new OperationError('ERR_INTERNAL', `search worker failed: ${response.error}`));
      };
      const onError = (error: Error): void => {
        cleanup();
        this.workers = this.workers.filter((w) => w !== worker);
        reject(new OperationError('ERR_INTERNAL', `search worker failed: ${error.message}`, { cause: error }));
      };
      const onExit = (): void => {
        cleanup();
        this.workers = this.workers.filter((w) => w !== worker);
        reject(new OperationError('ERR_UNAVAILABLE', 'search worker stopped before answering'));
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      const waiting = this.pending.get(worker) ?? 0;
      if (waiting === 0) worker.ref();
      this.pending.set(worker, waiting + 1);
      worker.postMessage(request);
    });
  }

  /** Stops the workers; a later `run` starts new ones. */
  async close(): Promise<void> {
    const workers = this.workers;
    this.workers = [];
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}
