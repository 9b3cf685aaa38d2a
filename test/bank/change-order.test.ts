// Signal changes reach the index in the order they were committed, however the store's answers
// arrive (a submission is committed on the store's writer thread and answered by message): an
// index that saw a retraction after the re-submission that followed it would miss a live signal.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Bank, itemResult, type ItemResult } from '../../src/bank/bank.js';
import { createHammingIndex } from '../../src/index/create-hamming-index.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { AuditOrigin, Store, SubmissionInput } from '../../src/store/store.js';
import { SeededRandom, toHex, uniformHash } from '../index/seeded-hashes.js';

const system: AuditOrigin = { actor: 'system', kid: null, proof: null };
const as = (actor: string): AuditOrigin => ({ actor, kid: `${actor}-key`, proof: 'proof' });
const hash = toHex(uniformHash(new SeededRandom(7)));
const item: ItemResult<SubmissionInput> = { ok: true, value: { type: 'pdq', hash, labels: ['suicide'], media: 'image', quality: 100 } };

/** `store`, answering every retraction `delayMs` after committing it. */
function answeringRetractionsLate(store: Store, delayMs: number): Store {
  return new Proxy<Store>(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      if (property !== 'retractSubmission') return value.bind(target) as unknown;
      return async (...args: unknown[]) => {
        const change: unknown = await value.apply(target, args);
        return new Promise((resolve) => setTimeout(() => resolve(change), delayMs));
      };
    },
  });
}

describe('order of signal changes', () => {
  let dir: string;
  let store: SqliteStore;
  let bank: Bank;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sb-order-'));
    store = SqliteStore.open({ path: join(dir, 'bank.db'), submitWriter: true });
    await store.createMember({ id: 'alpha', name: 'Alpha', roles: ['submitter', 'matcher'] }, system);
    bank = await Bank.open(answeringRetractionsLate(store, 30), () => createHammingIndex({ workers: 0 }));
  });
  afterEach(async () => {
    await bank.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies outcomes in the order the changes were made, however late the store answers', async () => {
    const [created] = await bank.submit('alpha', [item], as('alpha'));
    const id = created!.signal!.id;
    // Retracted, then submitted again at once: the store answers the submission first.
    const retract = bank.retract('alpha', id, as('alpha'));
    const again = bank.submit('alpha', [item], as('alpha'));
    await Promise.all([retract, again]);
    expect((await store.getSignal(id, undefined))?.signal.status).toBe('active');
    // Active in the store, so matched: the index saw the retraction before the new submission.
    const query = itemResult(() => bank.validateQuery({ type: 'pdq', hash, maxDistance: 0 }));
    const [result] = await bank.match([query], { limit: 10, includeDisputed: false });
    expect(result?.ok && result.value.map((match) => match.signal.id)).toEqual([id]);
  });
});
