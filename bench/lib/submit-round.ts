/**
 * Batch-submit throughput of the SQLite store, as the benchmarks measure it: fresh database,
 * batches of new PDQ items each with a real request JWS as its proof, synchronous=FULL, and the
 * upkeep worker running as served. Options switch off the signal log or the change feed (the
 * store's benchmark-only switches) so their cost can be compared within one run.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signRequest, type SigningKey } from '../../src/client/sign-request.js';
import { BackgroundUpkeep } from '../../src/store/sqlite/background-upkeep.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { SubmissionInput } from '../../src/store/store.js';

/** Random PDQ-like hashes (about 128 of 256 bits set, never degenerate). */
export function randomPdqItems(count: number): SubmissionInput[] {
  return Array.from({ length: count }, () => ({ type: 'pdq', hash: randomBytes(32).toString('hex'), labels: ['suicide'], media: 'image', quality: 90 }));
}

/** A real request JWS, stored as an audit entry's proof. */
export async function proofFor(key: SigningKey): Promise<string> {
  const header = await signRequest(key, { method: 'POST', target: '/v1/signals', body: randomBytes(64) });
  return header.slice('JWS '.length);
}

/** `without` the signal log; with it, the tree kept by the `background` worker (as served) or `inline`. */
export type AuditMode = 'without' | 'background' | 'inline';

export interface SubmitRoundOptions {
  readonly audit: AuditMode;
  /** Write change-feed rows (as served); default true. */
  readonly changes?: boolean;
  readonly key: SigningKey;
  readonly batches: number;
  readonly batchSize: number;
}

/** Signals per second for `batches` batches of `batchSize` new items into a fresh database. */
export async function submitRound(options: SubmitRoundOptions): Promise<number> {
  const { audit, key, batches: count, batchSize } = options;
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-submit-'));
  const store = SqliteStore.open({ path: join(dir, 'bank.db'), appendAuditEntries: audit !== 'without', appendChanges: options.changes ?? true });
  // As served: the upkeep worker runs (checkpointing the WAL; keeping the tree when there is a log).
  const builder = audit === 'inline' ? undefined : BackgroundUpkeep.start(store);
  try {
    await store.createMember({ id: 'bench', name: 'Bench', roles: ['submitter'] }, { actor: 'operator', kid: null, proof: null });
    const batches = Array.from({ length: count }, () => randomPdqItems(batchSize));
    const proofs = await Promise.all(batches.map(() => proofFor(key)));
    const started = performance.now();
    for (const [i, batch] of batches.entries()) {
      await store.submitSignals('bench', batch, { actor: 'bench', kid: key.kid, proof: proofs[i]! });
      // Inline: the tree is kept on this thread after every transaction.
      if (audit === 'inline') await store.auditTreeHead();
      // Background: let the worker run as it would between requests.
      if (audit === 'background') await new Promise((resolve) => setImmediate(resolve));
    }
    // Count the time until the tree holds every entry (the worker's, or catching up here).
    if (audit === 'background') while (await treeBehind(store)) await new Promise((resolve) => setTimeout(resolve, 5));
    const seconds = (performance.now() - started) / 1000;
    if (audit !== 'without' && (await store.auditTreeHead()).treeSize !== count * batchSize + 1) throw new Error('the tree missed entries');
    return (count * batchSize) / seconds;
  } finally {
    await builder?.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function treeBehind(store: SqliteStore): Promise<boolean> {
  const entries = (store.db.prepare('SELECT max(seq) AS n FROM audit_entries').get() as { n: number }).n;
  // The worker records whole chunks of 16 entries; the last, incomplete one is composed on read.
  const chunks = (store.db.prepare('SELECT count(*) AS n FROM audit_leaf_chunks').get() as { n: number }).n;
  return entries >= (chunks + 1) * 16;
}
