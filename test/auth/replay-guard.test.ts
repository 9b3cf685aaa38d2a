// The in-memory replay guard: a jti is accepted once per member until its token expires, a
// persisted jti is refused after a restart (written before the request, or with its change), and
// the fingerprints it keeps spread well enough that distinct jtis do not collide in a large sample.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { jtiFingerprint, ReplayGuard, type JtiKeeping } from '../../src/auth/replay-guard.js';

interface MemoryStore {
  consumeJti(memberId: string, jti: string, expiresAt: number): Promise<boolean>;
  isJtiUsed(memberId: string, jti: string): Promise<boolean>;
  /** `member jti` of every recorded jti; a route's change adds to it directly. */
  used: Set<string>;
  consumed: number;
}

/** The store's part: used jtis kept exactly, as the SQLite store does. */
function memoryStore(): MemoryStore {
  const used = new Set<string>();
  const store: MemoryStore = {
    used,
    consumed: 0,
    consumeJti(memberId, jti) {
      const key = `${memberId} ${jti}`;
      if (used.has(key)) return Promise.resolve(false);
      used.add(key);
      store.consumed++;
      return Promise.resolve(true);
    },
    isJtiUsed: (memberId, jti) => Promise.resolve(used.has(`${memberId} ${jti}`)),
  };
  return store;
}

/** True when the guard accepts the jti. */
async function accepts(guard: ReplayGuard, member: string, id: string, expiresAt: number, keeping: JtiKeeping | boolean, now: number): Promise<boolean> {
  const mode: JtiKeeping = keeping === true ? 'store' : keeping === false ? 'memory' : keeping;
  return (await guard.accept(member, id, expiresAt, mode, now)) !== undefined;
}

const NOW = 1_800_000_000;
const jti = (): string => randomBytes(16).toString('base64url');

describe('ReplayGuard', () => {
  it('accepts a jti once per member, and the same jti from another member', async () => {
    const guard = new ReplayGuard(memoryStore());
    const id = jti();
    expect(await accepts(guard, 'alice', id, NOW + 300, false, NOW)).toBe(true);
    expect(await accepts(guard, 'alice', id, NOW + 300, false, NOW + 1)).toBe(false);
    expect(await accepts(guard, 'bob', id, NOW + 300, false, NOW + 1)).toBe(true);
    expect(guard.size).toBe(2);
  });

  it('refuses one of two concurrent requests with the same jti', async () => {
    const guard = new ReplayGuard(memoryStore());
    const id = jti();
    const answers = await Promise.all([accepts(guard, 'alice', id, NOW + 300, true, NOW), accepts(guard, 'alice', id, NOW + 300, true, NOW)]);
    expect(answers.sort()).toEqual([false, true]);
  });

  it('forgets a jti once its token and the clock skew have expired', async () => {
    const guard = new ReplayGuard(memoryStore());
    await accepts(guard, 'alice', jti(), NOW + 60, false, NOW);
    expect(guard.size).toBe(1);
    await accepts(guard, 'alice', jti(), NOW + 400, false, NOW + 60 + 30 + 120);
    expect(guard.size).toBe(1);
  });

  it('refuses a persisted jti after a restart (a new guard over the same store)', async () => {
    const store = memoryStore();
    const id = jti();
    expect(await accepts(new ReplayGuard(store), 'alice', id, NOW + 300, true, NOW)).toBe(true);
    const restarted = new ReplayGuard(store);
    expect(await accepts(restarted, 'alice', id, NOW + 300, true, NOW + 5)).toBe(false);
    // A jti that was not persisted (a read) is forgotten by a restart.
    const read = jti();
    expect(await accepts(new ReplayGuard(store), 'alice', read, NOW + 300, false, NOW)).toBe(true);
    expect(await accepts(new ReplayGuard(store), 'alice', read, NOW + 300, false, NOW)).toBe(true);
  });

  it('with-change: refuses a jti the store holds, records nothing itself, and ensureRecorded records it only when the change did not', async () => {
    const store = memoryStore();
    const id = jti();
    const used = await new ReplayGuard(store).accept('alice', id, NOW + 300, 'with-change', NOW);
    expect(used).toEqual({ memberId: 'alice', jti: id, expiresAtSeconds: NOW + 300 + 30 });
    expect(store.used.size).toBe(0);
    // The route's change recorded it (as the audit appender does): ensureRecorded adds nothing.
    store.used.add(`alice ${id}`);
    await new ReplayGuard(store).ensureRecorded(used!);
    expect(store.consumed).toBe(0);
    expect(await accepts(new ReplayGuard(store), 'alice', id, NOW + 300, 'with-change', NOW + 5)).toBe(false);
    // A request that changed nothing: ensureRecorded writes it, and a restart refuses the replay.
    const idle = jti();
    const guard = new ReplayGuard(store);
    const unchanged = await guard.accept('alice', idle, NOW + 300, 'with-change', NOW);
    await guard.ensureRecorded(unchanged!);
    expect(store.consumed).toBe(1);
    expect(await accepts(new ReplayGuard(store), 'alice', idle, NOW + 300, 'with-change', NOW + 5)).toBe(false);
    expect(await accepts(new ReplayGuard(store), 'alice', idle, NOW + 300, 'store', NOW + 5)).toBe(false);
  });

  it('fingerprints are safe integers, differ between members and jtis, and do not collide over 300,000 jtis', () => {
    const seen = new Set<number>();
    let unsafe = 0;
    for (let i = 0; i < 300_000; i++) {
      const print = jtiFingerprint(`member-${i % 16}`, jti());
      if (!Number.isSafeInteger(print) || print < 0) unsafe++;
      seen.add(print);
    }
    expect(unsafe).toBe(0);
    expect(seen.size).toBe(300_000);
    const id = jti();
    expect(jtiFingerprint('alice', id)).toBe(jtiFingerprint('alice', id));
    expect(jtiFingerprint('alice', id)).not.toBe(jtiFingerprint('alicf', id));
    // The separator keeps (member, jti) pairs that concatenate alike apart.
    expect(jtiFingerprint('ab', 'cdefghijklmnopqrst')).not.toBe(jtiFingerprint('abc', 'defghijklmnopqrst'));
  });
});
