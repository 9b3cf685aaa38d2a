import { mkdtempSync, rmSync, writeFileSync, mkdirSync, copyFileSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { isSignalbankError } from '../../src/errors.js';
import { openDatabase } from '../../src/store/sqlite/database.js';
import { MIGRATIONS_DIR, migrate, readMigrations } from '../../src/store/sqlite/migrations.js';
import { BackgroundUpkeep } from '../../src/store/sqlite/background-upkeep.js';
import { SqliteAuditLog } from '../../src/store/sqlite/sqlite-audit.js';
import { INDEX_PAGE_SQL, TYPE_HAS_LIVE_SIGNALS_SQL } from '../../src/store/sqlite/sqlite-signals.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { describeStoreContract } from './store-contract.js';
import { SeededRandom, toHex, uniformHash } from '../index/seeded-hashes.js';

function harness(path: string, cleanup: () => void = () => undefined, submitWriter = false) {
  let now = Date.parse('2026-01-01T00:00:00.000Z');
  const store = SqliteStore.open({ path, clock: () => now, submitWriter });
  return {
    store,
    tick(ms = 1000) {
      now += ms;
    },
    async close() {
      await store.close();
      cleanup();
    },
  };
}

describeStoreContract('sqlite file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-store-'));
  return harness(join(dir, 'bank.db'), () => rmSync(dir, { recursive: true, force: true }));
});
describeStoreContract('sqlite file, submissions committed on the writer thread (as served)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-store-'));
  return harness(join(dir, 'bank.db'), () => rmSync(dir, { recursive: true, force: true }), true);
});
describeStoreContract('sqlite in memory', async () => harness(':memory:'));

describe('sqlite engine', () => {
  const tempDir = () => mkdtempSync(join(tmpdir(), 'sb-sqlite-'));

  it('loads the index along the row ids, never sorting every row of a type for each page', async () => {
    const store = SqliteStore.open({ path: ':memory:' });
    const plan = store.db
      .prepare<[number, string, number], { detail: string }>(`EXPLAIN QUERY PLAN ${INDEX_PAGE_SQL}`)
      .all(0, 'pdq', 100)
      .map((step) => step.detail);
    await store.close();
    expect(plan).toEqual(['CO-ROUTINE (subquery-1)', 'SEARCH signals USING INTEGER PRIMARY KEY (rowid>?)', 'SCAN (subquery-1)']);
  });

  it('skips the walk for a type without live signals, found through the (type, hash) index', async () => {
    const store = SqliteStore.open({ path: ':memory:' });
    const plan = store.db
      .prepare<[string], { detail: string }>(`EXPLAIN QUERY PLAN ${TYPE_HAS_LIVE_SIGNALS_SQL}`)
      .all('blockhash')
      .map((step) => step.detail);
    expect(plan).toEqual(['SEARCH signals USING INDEX sqlite_autoindex_signals_2 (type=?)']);
    // The walk's statement is never run for such a type; a type with live signals walks as before.
    const walk = vi.spyOn((store as unknown as { signals: { q: { indexPage: { get: (...args: unknown[]) => unknown } } } }).signals.q.indexPage, 'get');
    await store.createMember({ id: 'alpha', name: 'Alpha', roles: ['submitter'] }, { actor: 'operator', kid: null, proof: null });
    await store.submitSignals('alpha', [{ type: 'pdq', hash: 'd8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22', labels: ['suicide'], media: 'image' }], { actor: 'alpha', kid: null, proof: null });
    const read = async (type: 'pdq' | 'blockhash') => {
      let rows = 0;
      for await (const batch of store.indexEntries(type)) rows += batch.ids.length;
      return rows;
    };
    expect(await read('blockhash')).toBe(0);
    expect(walk).not.toHaveBeenCalled();
    expect(await read('pdq')).toBe(1);
    expect(walk).toHaveBeenCalled();
    await store.close();
  });

  it('opens with WAL, synchronous FULL and foreign keys', async () => {
    const dir = tempDir();
    const store = SqliteStore.open({ path: join(dir, 'bank.db') });
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2);
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    await store.close();
    rmSync(dir, { recursive: true });
  });

  it('records applied migrations and applies nothing twice', () => {
    const db = openDatabase(':memory:');
    const first = migrate(db);
    expect(first.applied).toEqual(readMigrations().map((m) => m.version));
    expect(migrate(db).applied).toEqual([]);
    db.close();
  });

  it('refuses a database newer than the code', () => {
    const dir = tempDir();
    const path = join(dir, 'bank.db');
    SqliteStore.open({ path }).db.close();
    const db = openDatabase(path);
    db.prepare("INSERT INTO schema_migrations VALUES (999, 'future', 'x', '2030-01-01')").run();
    db.close();
    expect(() => SqliteStore.open({ path })).toThrow(expect.objectContaining({ code: 'ERR_SCHEMA_TOO_NEW' }) as Error);
    rmSync(dir, { recursive: true });
  });

  it('refuses a database whose applied migration text differs', () => {
    const dir = tempDir();
    const migrations = join(dir, 'migrations');
    mkdirSync(migrations);
    for (const m of readMigrations()) copyFileSync(join(MIGRATIONS_DIR, `${String(m.version).padStart(4, '0')}_${m.name}.sql`), join(migrations, `${String(m.version).padStart(4, '0')}_${m.name}.sql`));
    const db = openDatabase(':memory:');
    migrate(db, readMigrations(migrations));
    writeFileSync(join(migrations, '0001_initial.sql'), '-- edited\n', { flag: 'a' });
    try {
      migrate(db, readMigrations(migrations));
      expect.unreachable();
    } catch (error) {
      expect(isSignalbankError(error) && error.code).toBe('ERR_SCHEMA_MISMATCH');
    }
    db.close();
    rmSync(dir, { recursive: true });
  });

  it('sees a member suspended or a key revoked through another connection on the very next read', async () => {
    const dir = tempDir();
    const path = join(dir, 'bank.db');
    const system = { actor: 'system', kid: null, proof: null };
    const service = SqliteStore.open({ path });
    const other = SqliteStore.open({ path });
    await service.createMember({ id: 'admin', name: 'Admin', roles: ['admin'] }, system);
    await service.addKey('admin', { preferredKid: 'admin-key', alg: 'EdDSA', publicJwk: { kty: 'OKP', crv: 'Ed25519', x: 'x0' }, thumbprint: 't0' }, system);
    await service.createMember({ id: 'acme', name: 'Acme', roles: ['matcher'] }, system);
    // Added by the other connection: found by the service's next read (nothing missing is remembered).
    expect(await service.getKey('acme-key')).toBeUndefined();
    await other.addKey('acme', { preferredKid: 'acme-key', alg: 'EdDSA', publicJwk: { kty: 'OKP', crv: 'Ed25519', x: 'x1' }, thumbprint: 't1' }, system);
    for (let read = 0; read < 3; read++) {
      expect((await service.getKey('acme-key'))?.status).toBe('active');
      expect((await service.getMember('acme'))?.status).toBe('active');
    }
    await other.updateMember('acme', { status: 'suspended' }, system);
    expect((await service.getMember('acme'))?.status).toBe('suspended');
    await other.updateMember('acme', { status: 'active', roles: ['submitter'] }, system);
    expect(await service.getMember('acme')).toMatchObject({ status: 'active', roles: ['submitter'] });
    await other.revokeKey('acme', 'acme-key', system);
    expect((await service.getKey('acme-key'))?.status).toBe('revoked');
    // A raw write outside the store's own methods (an operator's sqlite3) is seen too.
    other.db.prepare("UPDATE members SET status = 'suspended' WHERE id = 'acme'").run();
    expect((await service.getMember('acme'))?.status).toBe('suspended');
    await other.close();
    await service.close();
    rmSync(dir, { recursive: true });
  });

  it('hands out members and keys that callers cannot alter', async () => {
    const store = SqliteStore.open({ path: ':memory:' });
    const system = { actor: 'system', kid: null, proof: null };
    await store.createMember({ id: 'admin', name: 'Admin', roles: ['admin'] }, system);
    const member = (await store.getMember('admin'))!;
    expect(() => (member.roles as string[]).push('matcher')).toThrow(TypeError);
    expect(() => Object.assign(member, { status: 'active' })).toThrow(TypeError);
    expect((await store.getMember('admin'))?.roles).toEqual(['admin']);
    await store.close();
  });

  it('refuses to rewrite or delete audit entries', async () => {
    const store = SqliteStore.open({ path: ':memory:' });
    await store.createMember({ id: 'admin', name: 'Admin', roles: ['admin'] }, { actor: 'system', kid: null, proof: null });
    expect(() => store.db.prepare("UPDATE audit_entries SET actor = 'mallory'").run()).toThrow(/append-only/);
    expect(() => store.db.prepare('DELETE FROM audit_entries').run()).toThrow(/append-only/);
    await store.close();
  });
});

describe('sqlite audit tree upkeep', () => {
  it('rebuilds missing leaves at open, in order, to the same root', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-tree-'));
    const path = join(dir, 'bank.db');
    const store = SqliteStore.open({ path });
    const system = { actor: 'system', kid: null, proof: null };
    for (let i = 0; i < 53; i++) await store.createMember({ id: `member-${i}`, name: `${i}`, roles: [] }, system);
    const head = await store.auditTreeHead();
    expect(head.treeSize).toBe(53);
    // A proof's read catches up: records the 3 complete chunks.
    expect(await store.auditRootAt(53)).toBe(head.rootHash);
    expect((store.db.prepare('SELECT count(*) AS n FROM audit_leaf_chunks').get() as { n: number }).n).toBe(3);
    // As if the database predated the tree: drop every recorded leaf and subtree.
    store.db.exec('DROP TRIGGER audit_leaf_chunks_no_delete; DELETE FROM audit_leaf_chunks; DROP TRIGGER audit_tree_nodes_no_delete; DELETE FROM audit_tree_nodes;');
    await store.close();
    const reopened = SqliteStore.open({ path });
    expect(await reopened.auditTreeHead()).toEqual(head);
    await reopened.close();
    rmSync(dir, { recursive: true });
  });

  it('answers the head without recording anything, as catching up would, unless too much waits', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-tree-'));
    const store = SqliteStore.open({ path: join(dir, 'bank.db') });
    const log = new SqliteAuditLog(store.db);
    const system = { actor: 'system', kid: null, proof: null };
    const random = new SeededRandom(11);
    const items = (count: number) => Array.from({ length: count }, () => ({ type: 'pdq' as const, hash: toHex(uniformHash(random)), labels: ['suicide'], media: 'image' as const, quality: 100 }));
    await store.createMember({ id: 'alpha', name: 'Alpha', roles: ['submitter'] }, system);
    for (const count of [0, 14, 1, 1, 40, 300, 7]) {
      if (count > 0) await store.submitSignals('alpha', items(count), system);
      const chunks = log.chunkCount();
      const pure = log.headWithoutRecording();
      expect(log.chunkCount()).toBe(chunks);
      expect(await store.auditTreeHead()).toEqual(pure);
      expect(log.chunkCount()).toBe(chunks);
      // Catching up records what waited, to the same head.
      expect(log.head()).toEqual(pure);
    }
    // More than 64 chunks wait: the pure read declines, the store catches up instead.
    await store.submitSignals('alpha', items(1100), system);
    expect(log.headWithoutRecording()).toBeUndefined();
    const head = await store.auditTreeHead();
    expect(head.treeSize).toBe(1 + 363 + 1100);
    expect(log.headWithoutRecording()).toEqual(head);
    await store.close();
    rmSync(dir, { recursive: true });
  });

  it('is kept by the upkeep worker without any read, to the root a catch-up computes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-tree-'));
    const path = join(dir, 'bank.db');
    const store = SqliteStore.open({ path });
    const upkeep = BackgroundUpkeep.start(store, { pollMs: 5 });
    const system = { actor: 'system', kid: null, proof: null };
    for (let i = 0; i < 70; i++) await store.createMember({ id: `member-${i}`, name: `${i}`, roles: [] }, system);
    const chunks = () => (store.db.prepare('SELECT count(*) AS n FROM audit_leaf_chunks').get() as { n: number }).n;
    const deadline = Date.now() + 10_000;
    while (chunks() < 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(chunks()).toBe(4);
    await upkeep.stop();
    const head = await store.auditTreeHead();
    expect(head.treeSize).toBe(70);
    store.db.exec('DROP TRIGGER audit_leaf_chunks_no_delete; DELETE FROM audit_leaf_chunks; DROP TRIGGER audit_tree_nodes_no_delete; DELETE FROM audit_tree_nodes;');
    expect(await store.auditTreeHead()).toEqual(head);
    await store.close();
    rmSync(dir, { recursive: true });
  });

  it('stops without leaving a timer that would keep the process up for 2 s', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-upkeep-'));
    const store = SqliteStore.open({ path: join(dir, 'bank.db') });
    const upkeep = BackgroundUpkeep.start(store, { pollMs: 5 });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      await upkeep.stop();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
    await store.close();
    rmSync(dir, { recursive: true });
  });

  it('checkpoints the write-ahead log as writes come, so that steady writes reuse the log instead of growing it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-wal-'));
    const path = join(dir, 'bank.db');
    const store = SqliteStore.open({ path });
    const upkeep = BackgroundUpkeep.start(store); // the service's settings
    const system = { actor: 'system', kid: null, proof: null };
    await store.createMember({ id: 'alpha', name: 'Alpha', roles: ['submitter'] }, system);
    const batch = () => Array.from({ length: 500 }, () => ({ type: 'pdq' as const, hash: randomBytes(32).toString('hex'), labels: ['suicide'], media: 'image' as const, quality: 100 }));
    const walBytes = () => statSync(`${path}-wal`).size;
    const pause = () => new Promise((resolve) => setTimeout(resolve, 400));
    await store.submitSignals('alpha', batch(), system);
    await pause();
    const afterFirst = walBytes();
    // Four more batches within 1.6 s: checkpointed once a second (the old default), the log grew to 2.7x.
    for (let i = 0; i < 4; i++) {
      await store.submitSignals('alpha', batch(), system);
      await pause();
    }
    expect(walBytes()).toBeLessThan(2 * afterFirst);
    await upkeep.stop();
    await store.close();
    rmSync(dir, { recursive: true });
  });

  it('records hashed chunks only without a gap, skipping those already recorded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-tree-'));
    const store = SqliteStore.open({ path: join(dir, 'bank.db') });
    const system = { actor: 'system', kid: null, proof: null };
    for (let i = 0; i < 48; i++) await store.createMember({ id: `member-${i}`, name: `${i}`, roles: [] }, system);
    const log = new SqliteAuditLog(store.db);
    const first = log.hashChunks(0, log.chunkFrontierAt(0), 1)!;
    const later = log.hashChunks(1, first.frontier, 2)!;
    expect([first.leaves.length, later.leaves.length]).toEqual([1, 2]);
    // A gap (chunk 0 missing) is refused and changes nothing.
    expect(store.db.transaction(() => log.recordChunks(later)).immediate()).toBe(false);
    expect(log.chunkCount()).toBe(0);
    expect(store.db.transaction(() => log.recordChunks(first)).immediate()).toBe(true);
    expect(store.db.transaction(() => log.recordChunks(first)).immediate()).toBe(true);
    expect(store.db.transaction(() => log.recordChunks(later)).immediate()).toBe(true);
    expect(log.chunkCount()).toBe(3);
    const head = await store.auditTreeHead();
    store.db.exec('DROP TRIGGER audit_leaf_chunks_no_delete; DELETE FROM audit_leaf_chunks; DROP TRIGGER audit_tree_nodes_no_delete; DELETE FROM audit_tree_nodes;');
    expect(await store.auditTreeHead()).toEqual(head);
    await store.close();
    rmSync(dir, { recursive: true });
  });
});
