/**
 * `signalbank serve` as an operator runs it: a child process that initialises a missing database,
 * serves signed requests, and on SIGTERM finishes the request in flight before it exits 0.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateMemberKeyPair } from '../../src/auth/member-keys.js';
import { loadSigningKey, signingKeyFromJwk } from '../../src/client/sign-request.js';
import { SignalbankClient } from '../../src/client/signalbank-client.js';
import { startServeProcess } from '../support/serve-process.js';

const dir = mkdtempSync(join(tmpdir(), 'sb-serve-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hashOf = (i: number): string => (0x5a5a5a5a ^ i).toString(16).padStart(8, '0').repeat(8);

describe('signalbank serve', () => {
  it('initialises on first start, serves, and drains the request in flight on SIGTERM', async () => {
    const db = join(dir, 'data', 'bank.db');
    const first = await startServeProcess(['--db', db, '--audience', 'serve-test']);
    expect(first.logs.find((l) => l['msg'] === 'initialised a new database')).toBeDefined();
    const admin = new SignalbankClient({ baseUrl: first.url, audience: 'serve-test', key: await loadSigningKey('admin', join(dir, 'data', 'admin.private.jwk.json')) });
    const pair = await generateMemberKeyPair();
    expect((await admin.send('POST', '/v1/admin/members', { id: 'acme', name: 'Acme', roles: ['submitter', 'matcher'] })).status).toBe(201);
    const added = await admin.send('POST', '/v1/admin/members/acme/keys', { jwk: pair.publicJwk });
    const kid = (added.body as { kid: string }).kid;
    const acme = new SignalbankClient({ baseUrl: first.url, audience: 'serve-test', key: await signingKeyFromJwk('acme', { ...pair.privateJwk, kid }) });

    const items = Array.from({ length: 10_000 }, (_, i) => ({ type: 'pdq', hash: hashOf(i), labels: ['suicide'], media: 'image' as const, quality: 90 }));
    const inFlight = acme.submit(items);
    await new Promise((resolve) => setTimeout(resolve, 30));
    first.child.kill('SIGTERM');
    const answer = await inFlight;
    expect(answer.results.filter((r) => r.status === 'created')).toHaveLength(10_000);
    expect(await first.exited).toBe(0);

    const second = await startServeProcess(['--db', db, '--audience', 'serve-test']);
    try {
      expect(second.logs.find((l) => l['msg'] === 'initialised a new database')).toBeUndefined();
      expect(second.logs.find((l) => l['msg'] === 'index loaded')).toMatchObject({ indexSizes: { pdq: 10_000 } });
      const again = new SignalbankClient({ baseUrl: second.url, audience: 'serve-test', key: await signingKeyFromJwk('acme', { ...pair.privateJwk, kid }) });
      const [matches] = (await again.match([{ type: 'pdq', hash: hashOf(9_999) }])).results;
      const hits = matches && 'matches' in matches ? matches.matches : [];
      expect(hits.find((hit) => hit.distance === 0)?.hash).toBe(hashOf(9_999));
    } finally {
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    }
  });
});
