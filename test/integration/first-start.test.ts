/**
 * A first start that fails half-way never leaves a bank nobody can administer: the next start
 * (or `init`) finishes what the first began — a database with no member gets its admin, an admin
 * member without a key gets one — and an initialised bank is left as it is. A port in use is
 * said to be one.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startService } from '../../src/api/service.js';
import { initialiseBank } from '../../src/bank/initialise-bank.js';
import { loadConfig } from '../../src/config.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { codeOf } from '../support/error-code.js';

const root = mkdtempSync(join(tmpdir(), 'sb-first-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const OPERATOR = { actor: 'operator', kid: null, proof: null };

async function membersAndKeys(dbPath: string): Promise<{ members: string[]; adminKeys: number }> {
  const store = SqliteStore.open({ path: dbPath });
  try {
    const members = (await store.listMembers()).map((m) => m.id);
    return { members, adminKeys: members.includes('admin') ? (await store.listKeys('admin')).length : 0 };
  } finally {
    await store.close();
  }
}

describe('the first start', () => {
  it('finishes on the next start after failing on an admin key file already there', async () => {
    const dir = join(root, 'key-in-the-way');
    const dbPath = join(dir, 'bank.db');
    const config = loadConfig({}, { host: '127.0.0.1', port: 0, dbPath, logLevel: 'silent' });
    const keyPath = join(dir, 'admin.private.jwk.json');
    // An operator's leftover key file where init would write the admin's.
    mkdirSync(dir, { recursive: true });
    writeFileSync(keyPath, '{"leftover":true}');
    expect(await codeOf(startService(config))).toBe('ERR_CONFLICT');
    expect(existsSync(dbPath)).toBe(true);
    expect(await membersAndKeys(dbPath)).toEqual({ members: [], adminKeys: 0 });

    rmSync(keyPath);
    const service = await startService(config);
    try {
      expect(service.initialised?.created).toBe(true);
      expect(JSON.parse(readFileSync(keyPath, 'utf8'))).toMatchObject({ kid: service.initialised?.admin?.kid });
    } finally {
      await service.close();
    }
    expect(await membersAndKeys(dbPath)).toEqual({ members: ['admin'], adminKeys: 1 });
    // A start on the initialised bank changes nothing.
    const again = await startService(config);
    await again.close();
    expect(again.initialised).toBeUndefined();
    expect(await membersAndKeys(dbPath)).toEqual({ members: ['admin'], adminKeys: 1 });
  });

  it('refuses a port in use with ERR_CONFIG saying so, and starts once it is free', async () => {
    const first = await startService(loadConfig({}, { host: '127.0.0.1', port: 0, dbPath: join(root, 'one', 'bank.db'), logLevel: 'silent' }));
    const config = loadConfig({}, { host: '127.0.0.1', port: first.port, dbPath: join(root, 'two', 'bank.db'), logLevel: 'silent' });
    try {
      const refused = await startService(config).then(
        () => undefined,
        (error: unknown) => error as { code?: string; message?: string },
      );
      expect(refused?.code).toBe('ERR_CONFIG');
      expect(refused?.message).toBe(`Cannot listen on 127.0.0.1 port ${first.port}: another process uses it (set PORT or --port)`);
    } finally {
      await first.close();
    }
    const second = await startService(config);
    await second.close();
  });

  it('gives a key to an admin member that a cut-off init left without one', async () => {
    const dbPath = join(root, 'keyless', 'bank.db');
    const store = SqliteStore.open({ path: dbPath, migrate: true });
    await store.createMember({ id: 'admin', name: 'Operator', roles: ['admin'] }, OPERATOR);
    await store.close();
    const report = await initialiseBank({ dbPath });
    expect(report.created).toBe(true);
    expect(await membersAndKeys(dbPath)).toEqual({ members: ['admin'], adminKeys: 1 });
    expect((await initialiseBank({ dbPath })).created).toBe(false);
  });
});
