/**
 * Revocation and suspension made by another process on the same database file (an operator's
 * `sqlite3`, a second service) take effect on the service's very next request, although the
 * service keeps the key and member rows it verified with (it watches SQLite's data_version).
 * The service runs as its own process; this test process writes the file directly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateMemberKeyPair, parsePublicJwk } from '../../src/auth/member-keys.js';
import { signingKeyFromJwk, signRequest, type SigningKey } from '../../src/client/sign-request.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { startServeProcess, type ServeProcess } from '../support/serve-process.js';

const dir = mkdtempSync(join(tmpdir(), 'sb-other-process-'));
const operator = { actor: 'operator', kid: null, proof: null };
let server: ServeProcess;
let store: SqliteStore;
let acme: SigningKey;

beforeAll(async () => {
  const db = join(dir, 'bank.db');
  server = await startServeProcess(['--db', db]);
  store = SqliteStore.open({ path: db });
  await store.createMember({ id: 'acme', name: 'Acme', roles: ['matcher'] }, operator);
  const pair = await generateMemberKeyPair();
  const key = await store.addKey('acme', await parsePublicJwk(pair.publicJwk), operator);
  acme = await signingKeyFromJwk('acme', { ...pair.privateJwk, kid: key.kid });
});
afterAll(async () => {
  await store?.close();
  server?.child.kill('SIGTERM');
  await server?.exited;
  rmSync(dir, { recursive: true, force: true });
});

/** One freshly signed `GET /v1/taxonomy` as acme: the status and error code. */
async function ask(): Promise<{ status: number; code?: string }> {
  const target = '/v1/taxonomy';
  const response = await fetch(`${server.url}${target}`, { headers: { authorization: await signRequest(acme, { method: 'GET', target }) } });
  const body = (await response.json()) as { code?: string };
  return { status: response.status, ...(body.code !== undefined && { code: body.code }) };
}

describe('changes to members and keys by another process', () => {
  it('are in force from the very next request', async () => {
    expect(await ask()).toEqual({ status: 200 });
    expect(await ask()).toEqual({ status: 200 });
    await store.updateMember('acme', { status: 'suspended' }, operator);
    expect(await ask()).toEqual({ status: 403, code: 'ERR_MEMBER_SUSPENDED' });
    await store.updateMember('acme', { status: 'active' }, operator);
    expect(await ask()).toEqual({ status: 200 });
    await store.updateMember('acme', { roles: ['submitter'] }, operator);
    const target = '/v1/match?type=md5&hash=d41d8cd98f00b204e9800998ecf8427e';
    const refused = await fetch(`${server.url}${target}`, { headers: { authorization: await signRequest(acme, { method: 'GET', target }) } });
    expect(refused.status).toBe(403);
    expect(await ask()).toEqual({ status: 200 });
    await store.revokeKey('acme', acme.kid, operator);
    expect(await ask()).toEqual({ status: 401, code: 'ERR_KEY_REVOKED' });
  });
});
