/**
 * The submit writer: a worker thread (src/store/sqlite/submit-writer-worker.ts) with its own
 * connection to the service's database that commits batch submissions, and records the audit
 * tree rows the upkeep worker hashed (so that they never come between two batches). A batch's
 * SQLite work — its rows, their random index pages, the write-ahead log and its `fsync` — was
 * most of the time the thread answering requests spent on it; on the writer it runs beside that
 * thread, which meanwhile reads, checks and parses the next batches and answers matches.
 *
 *   request thread: verify ─► parse ─► validate ─► store.writes ─► SubmitWriter ┄┄► index.add ─► answer
 *   writer thread:                                  BEGIN IMMEDIATE … COMMIT (FULL) ─┘
 *
 * Its writes take their turns (`SqliteStore.writes`) like every other, so the service's two
 * connections never wait on each other's lock; the next batch is handed over while one commits.
 * If the thread dies, every submission in flight and every later one fails with
 * `ERR_UNAVAILABLE`, and so does the store's `ping` (so `/readyz`): a batch whose commit cannot be
 * known is never acknowledged, and the service must be restarted to load its index from the
 * store again (a committed batch missing from the index would stay unmatched).
 */
import type { Worker } from 'node:worker_threads';
import { fromWireError, OperationError, type WireError } from '../../errors.js';
import { startWorker } from '../../runtime/worker-script.js';
import type { AuditOrigin, SubmissionInput, SubmitOutcome } from '../store.js';
import type { WireHashedChunks } from './sqlite-audit.js';

export interface SubmitWriterData {
  readonly dbPath: string;
  /** `wal_autocheckpoint` of the writer's connection, as the service's own connection has it. */
  readonly autoCheckpointPages: number;
  readonly appendAuditEntries: boolean;
  readonly appendChanges: boolean;
}

export type SubmitWriterRequest =
  | {
      readonly type: 'submit';
      readonly id: number;
      readonly memberId: string;
      readonly items: readonly SubmissionInput[];
      readonly origin: AuditOrigin;
      readonly nowMs: number;
    }
  | { readonly type: 'chunks'; readonly id: number; readonly chunks: WireHashedChunks }
  | { readonly type: 'autocheckpoint'; readonly pages: number }
  | { readonly type: 'stop' };

export type SubmitWriterReply =
  | { readonly type: 'submitted'; readonly id: number; readonly outcomes: SubmitOutcome[] }
  | { readonly type: 'recorded'; readonly id: number; readonly recorded: boolean }
  | { readonly type: 'failed'; readonly id: number; readonly error: WireError }
  | { readonly type: 'stopped' };

interface Pending {
  readonly resolve: (answer: never) => void;
  readonly reject: (error: Error) => void;
}

const STOP_GRACE_MS = 2000;

export class SubmitWriter {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: OperationError | undefined;
  private stopping = false;

  private constructor(
    private readonly worker: Worker,
    private readonly onFailure: (error: OperationError) => void,
  ) {
    worker.on('message', (reply: SubmitWriterReply) => this.settle(reply));
    worker.on('error', (error) => this.fail(`it threw: ${error.message}`));
    worker.on('exit', (code) => {
      if (!this.stopping) this.fail(`it exited with code ${code}`);
    });
    worker.unref();
  }

  /** Starts the thread; `onFailure` is called once if it dies. */
  static start(data: SubmitWriterData, onFailure: (error: OperationError) => void = () => undefined): SubmitWriter {
    return new SubmitWriter(startWorker(import.meta.url, 'submit-writer-worker', { workerData: data }), onFailure);
  }

  /** Why the writer can no longer commit, once it cannot. */
  get failed(): OperationError | undefined {
    return this.failure;
  }

  /** Commits one submission (`SqliteSignals.submit`) on the writer's connection, at `nowMs`. */
  submit(memberId: string, items: readonly SubmissionInput[], origin: AuditOrigin, nowMs: number): Promise<SubmitOutcome[]> {
    return this.ask<SubmitOutcome[]>((id) => ({ type: 'submit', id, memberId, items, origin, nowMs }));
  }

  /** Records audit tree rows (`SqliteAuditLog.recordChunksNow`) on the writer's connection. */
  recordAuditChunks(chunks: WireHashedChunks): Promise<boolean> {
    return this.ask<boolean>((id) => ({ type: 'chunks', id, chunks }));
  }

  /** Posts a request and answers the worker's reply to it (of type `T`, as the request's type says). */
  private ask<T>(request: (id: number) => SubmitWriterRequest): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.stopping) return Promise.reject(new OperationError('ERR_UNAVAILABLE', 'The store is closing'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Keeps the process alive while an answer is awaited, and only then.
      if (this.pending.size === 1) this.worker.ref();
      this.post(request(id));
    });
  }

  /** Sets the writer connection's `wal_autocheckpoint` (pages; 0 turns it off). */
  setAutoCheckpoint(pages: number): void {
    if (!this.failure && !this.stopping) this.post({ type: 'autocheckpoint', pages });
  }

  /** Closes the writer's connection once the submissions already posted are committed. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.failure) {
      await this.worker.terminate();
      return;
    }
    const stopped = new Promise<void>((resolve) => {
      this.worker.on('message', (reply: SubmitWriterReply) => reply.type === 'stopped' && resolve());
      this.worker.once('exit', () => resolve());
    });
    this.worker.ref();
    this.post({ type: 'stop' });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([stopped, new Promise((resolve) => (timer = setTimeout(resolve, STOP_GRACE_MS)))]);
    clearTimeout(timer);
    await this.worker.terminate();
    this.rejectAll(new OperationError('ERR_UNAVAILABLE', 'The store closed before this submission was committed'));
  }

  private post(request: SubmitWriterRequest): void {
    this.worker.postMessage(request);
  }

  private settle(reply: SubmitWriterReply): void {
    if (reply.type === 'stopped') return;
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker.unref();
    if (reply.type === 'submitted') pending.resolve(reply.outcomes as never);
    else if (reply.type === 'recorded') pending.resolve(reply.recorded as never);
    else pending.reject(fromWireError(reply.error));
  }

  private fail(reason: string): void {
    if (this.failure) return;
    this.failure = new OperationError('ERR_UNAVAILABLE', `The store's submit writer stopped (${reason}); restart the service`);
    this.rejectAll(this.failure);
    this.onFailure(this.failure);
  }

  private rejectAll(error: Error): void {
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
    this.worker.unref();
  }
}
