/**
 * Builds of the multi-index tables from scratch, run on the calling thread or in a background
 * worker. A job names shared data only (the store's memory and dead bits), so it reaches the
 * worker without a copy, and the new tables come back the same way.
 */
import type { Worker } from 'node:worker_threads';
import { OperationError } from '../../errors.js';
import { startWorker } from '../../runtime/worker-script.js';
import { buildTables, type SlotSource, type TableSet } from './substring-tables.js';
import type { SubstringLayout } from './substring-layout.js';
import type { SharedWasmMemory } from '../../runtime/wasm/webassembly-api.js';

interface JobSource {
  readonly memory: SharedWasmMemory;
  /** Byte address of slot 0. */
  readonly hashes: number;
  readonly deadBits: Int32Array;
}

/** Index the live slots below `slotEnd` of `source` with `layout`. */
export interface TableBuild {
  readonly layout: SubstringLayout;
  readonly source: JobSource;
  readonly slotEnd: number;
}

export type TableBuildResponse = { readonly tables: TableSet } | { readonly error: string };

export function runTableBuild(job: TableBuild): TableSet {
  const source: SlotSource = { words: new Uint32Array(job.source.memory.buffer), hashesWord: job.source.hashes >>> 2, deadBits: job.source.deadBits };
  return buildTables(job.layout, source, job.slotEnd);
}

/** One worker thread running builds one at a time; unreferenced while idle. */
export class BackgroundBuilder {
  private worker: Worker | null = null;

  run(job: TableBuild): Promise<TableSet> {
    const worker = (this.worker ??= startWorker(import.meta.url, 'build-worker'));
    return new Promise<TableSet>((resolve, reject) => {
      const cleanup = (): void => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        worker.unref();
      };
      const onMessage = (response: TableBuildResponse): void => {
        cleanup();
        if ('tables' in response) resolve(response.tables);
        else reject(new OperationError('ERR_INTERNAL', `build worker failed: ${response.error}`));
      };
      const onError = (error: Error): void => {
        cleanup();
        this.worker = null;
        reject(new OperationError('ERR_INTERNAL', `build worker failed: ${error.message}`, { cause: error }));
      };
      const onExit = (): void => {
        cleanup();
        if (this.worker === worker) this.worker = null;
        reject(new OperationError('ERR_UNAVAILABLE', 'build worker stopped before answering'));
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.ref();
      worker.postMessage(job);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    await worker?.terminate();
  }
}
