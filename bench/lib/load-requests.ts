/**
 * The stress load's requests, built and signed ahead of the run in worker threads (each token
 * with its own jti and a 300 s lifetime), in the proportions asked for: matches of stored hashes
 * a few bits off or of random ones, batch submits of new hashes, and opinions on stored signals.
 */
import type { JWK } from 'jose';
import { startWorker } from '../../src/runtime/worker-script.js';

export type LoadKind = 'match' | 'submit' | 'opinion';

export interface LoadRequest {
  readonly kind: LoadKind;
  readonly method: string;
  readonly target: string;
  readonly body?: string;
  readonly authorization: string;
}

export interface PresignJob {
  readonly seed: number;
  readonly count: number;
  readonly members: readonly { memberId: string; privateJwk: JWK }[];
  readonly opinionIds: readonly string[];
  /** The stored hashes, 32 bytes each (shared, read-only). */
  readonly storedHashes: SharedArrayBuffer;
  readonly mix: { readonly match: number; readonly submit: number; readonly opinion: number };
  readonly submitBatch: number;
}

/** Builds `job.count` requests over `threads` workers; answers them interleaved. */
export async function presignRequests(job: PresignJob, threads: number): Promise<LoadRequest[]> {
  const shares = await Promise.all(
    Array.from({ length: threads }, (_, i) => {
      const count = Math.floor(job.count / threads) + (i < job.count % threads ? 1 : 0);
      const worker = startWorker(import.meta.url, 'presign-worker', { workerData: { ...job, seed: job.seed + i, count } });
      return new Promise<LoadRequest[]>((resolve, reject) => {
        worker.once('message', (requests: LoadRequest[]) => {
          resolve(requests);
          void worker.terminate();
        });
        worker.once('error', reject);
      });
    }),
  );
  const all: LoadRequest[] = [];
  for (let i = 0; all.length < job.count; i++) for (const share of shares) if (i < share.length) all.push(share[i]!);
  return all;
}
