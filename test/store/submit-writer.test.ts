// The submit writer (src/store/sqlite/submit-writer.ts): submissions committed by a worker thread
// on its own connection, every write of the store taking its turn, coded errors crossing the
// thread, a writer that cannot run failing loudly, and a close that waits for what was asked.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuthError } from '../../src/errors.js';
import { SqliteJobStore } from '../../src/jobs/job-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { SubmitWriter } from '../../src/store/sqlite/submit-writer.js';
import type { AuditOrigin, SubmissionInput } from '../../src/store/store.js';
import { SeededRandom, toHex, uniformHash } from '../index/seeded-hashes.js';

const system: AuditOrigin = { actor: 'system', kid: null, proof: null };
const random = new SeededRandom(20261207);
const items = (count: number): SubmissionInput[] =>
  Array.from({ length: count }, () => ({ type: 'pdq', hash: toHex(uniformHash(random)), labels: ['suicide'], media: 'image', quality: 100 }));
const origin = (jti: string): AuditOrigin => ({ actor: 'alpha', kid: 'alpha-key', proof: 'proof', jti: { memberId: 'alpha', jti, expiresAtSeconds: 4_000_000_000 } });

describe('submit writer', () => {
  let dir: string;
  let store: SqliteStore;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sb-writer-'));
    store = SqliteStore.open({ path: join(dir, 'bank.db'), submitWriter: true });
    await store.createMember({ id: 'alpha', name: 'Alpha', roles: ['submitter'] }, system);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const signalCount = (): number => (store.db.prepare('SELECT count(*) AS n FROM signals').get() as { n: number }).n;
  const dataVersion = (): number => store.db.pragma('data_version', { simple: true }) as number;

  it('commits submissions on another connection, visible to the service as soon as they are answered', async () => {
    const before = dataVersion();
    const outcomes = await store.submitSignals('alpha', items(3), origin('first'));
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['created', 'created', 'created']);
    // data_version moves only when another connection commits.
    expect(dataVersion()).not.toBe(before);
    expect(signalCount()).toBe(3);
    const stored = await store.getSignalsByRowIds(outcomes.map((outcome) => outcome.signal.rowId));
    expect([...stored.values()].map((signal) => signal.id).sort()).toEqual(outcomes.map((outcome) => outcome.signal.id).sort());
  });

  it("answers a coded error from the writer's transaction as the same error, and keeps nothing of it", async () => {
    await store.submitSignals('alpha', items(1), origin('used'));
    const replay = store.submitSignals('alpha', items(2), origin('used'));
    await expect(replay).rejects.toBeInstanceOf(AuthError);
    await expect(replay).rejects.toMatchObject({ code: 'ERR_REPLAY' });
    expect(signalCount()).toBe(1);
  });

  it("gives every other write its turn, so the service's connection never meets the writer's lock", async () => {
    // With no busy timeout, a write on this connection during the writer's transaction would fail at once.
    store.db.pragma('busy_timeout = 0');
    const batches = Promise.all([1, 2, 3].map((n) => store.submitSignals('alpha', items(4000), origin(`big-${n}`))));
    let finished = false;
    void batches.finally(() => (finished = true));
    // Other writes asked for every 2 ms while the batches commit.
    const others: Promise<unknown>[] = [];
    for (let i = 0; !finished && i < 1000; i++) {
      others.push(store.consumeJti('alpha', `other-${i}`, 4_000_000_000));
      if (i === 10) others.push(store.createMember({ id: 'beta', name: 'Beta', roles: ['matcher'] }, system), store.updateMember('beta', { name: 'B' }, system));
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await expect(batches).resolves.toHaveLength(3);
    expect(others.length).toBeGreaterThan(20);
    await expect(Promise.all(others)).resolves.toHaveLength(others.length);
    expect(signalCount()).toBe(12_000);
    expect(await store.listMembers()).toContainEqual(expect.objectContaining({ id: 'beta', name: 'B' }));
  });

  it("gives a batch job's writes their turn too", async () => {
    store.db.pragma('busy_timeout = 0');
    const jobs = new SqliteJobStore(store.db, Date.now, store.writes);
    let finished = false;
    const batches = (async () => {
      for (let n = 0; n < 8; n++) await store.submitSignals('alpha', items(2000), origin(`job-${n}`));
      finished = true;
    })();
    let rounds = 0;
    // A job received and removed, again and again, while the batches commit one after another.
    while (!finished && rounds < 1000) {
      const { rowId } = await jobs.beginReceiving('alpha', 10);
      while (!(await jobs.removeStep(rowId, 100)));
      rounds++;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await batches;
    expect(signalCount()).toBe(16_000);
    expect(rounds).toBeGreaterThanOrEqual(2);
  });

  it('commits what was submitted before close, then closes', async () => {
    const pending = store.submitSignals('alpha', items(2000), origin('late'));
    await store.close();
    await expect(pending).resolves.toHaveLength(2000);
    store = SqliteStore.open({ path: join(dir, 'bank.db') });
    expect(signalCount()).toBe(2000);
  });

  it('fails every submission with ERR_UNAVAILABLE when its thread cannot run, and says so', async () => {
    // A directory cannot be opened as a database: the worker stops at its first line.
    const writer = SubmitWriter.start({ dbPath: dir, autoCheckpointPages: 1000, appendAuditEntries: true, appendChanges: true });
    await expect(writer.submit('alpha', items(1), origin('x'), Date.now())).rejects.toMatchObject({ code: 'ERR_UNAVAILABLE' });
    expect(writer.failed).toMatchObject({ code: 'ERR_UNAVAILABLE' });
    await expect(writer.submit('alpha', items(1), origin('y'), Date.now())).rejects.toMatchObject({ code: 'ERR_UNAVAILABLE' });
    await writer.stop();
  });
});
