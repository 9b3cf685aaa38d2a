// The in-memory replay guard: a jti is accepted once per member until its token expires, a
// persisted jti is refused after a restart, and the fingerprints it keeps spread well enough that
// distinct jtis do not collide in a large sample.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { jtiFingerprint, ReplayGuard } from '../../src/auth/replay-guard.js';

/** The store's part: used jtis kept exactly, as the SQLite store does. */
function memoryStore(): { consumeJti(memberId: string, jti: string, expiresAt: number): Promise<boolean>; used: Set<string> } {
  const used = new Set<string>();
  return {
    used,
    consumeJti(memberId, jti) {
      const key = `${memberId} ${jti}`;
      if (used.has(key)) return Promise.resolve(false);
      used.add(key);
      return Promise.resolve(true);
    },
  };
}

const NOW = 1_800_000_000;
const jti = (): string => randomBytes(16).toString('base64url');

describe('ReplayGuard', () => {
  it('accepts a jti once per member, and the same jti from another member', async () => {
    const guard = new ReplayGuard(memoryStore());
    const id = jti();
    expect(await guard.accept('alice', id, NOW + 300, false, NOW)).toBe(true);
    expect(await guard.accept('alice', id, NOW + 300, false, NOW + 1)).toBe(false);
    expect(await guard.accept('bob', id, NOW + 300, false, NOW + 1)).toBe(true);
    expect(guard.size).toBe(2);
  });

  it('refuses one of two concurrent requests with the same jti', async () => {
    const guard = new ReplayGuard(memoryStore());
    const id = jti();
    const answers = await Promise.all([guard.accept('alice', id, NOW + 300, true, NOW), guard.accept('alice', id, NOW + 300, true, NOW)]);
    expect(answers.sort()).toEqual([false, true]);
  });

  it('forgets a jti once its token and the clock skew have expired', async () => {
    const guard = new ReplayGuard(memoryStore());
    await guard.accept('alice', jti(), NOW + 60, false, NOW);
    expect(guard.size).toBe(1);
    await guard.accept('alice', jti(), NOW + 400, false, NOW + 60 + 30 + 120);
    expect(guard.size).toBe(1);
  });

  it('refuses a persisted jti after a restart (a new guard over the same store)', async () => {
    const store = memoryStore();
    const id = jti();
    expect(await new ReplayGuard(store).accept('alice', id, NOW + 300, true, NOW)).toBe(true);
    const restarted = new ReplayGuard(store);
    expect(await restarted.accept('alice', id, NOW + 300, true, NOW + 5)).toBe(false);
    // A jti that was not persisted (a read) is forgotten by a restart.
    const read = jti();
    expect(await new ReplayGuard(store).accept('alice', read, NOW + 300, false, NOW)).toBe(true);
    expect(await new ReplayGuard(store).accept('alice', read, NOW + 300, false, NOW)).toBe(true);
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
