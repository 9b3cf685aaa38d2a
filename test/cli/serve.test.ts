/**
 * `signalbank serve` as an operator runs it: a child process that initialises a missing database,
 * private to its owner, serves signed requests, and on SIGTERM finishes the request in flight before it exits 0.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateMemberKeyPair } from '../../src/auth/member-keys.js';
import { loadSigningKey, signingKeyFromJwk, signRequest } from '../../src/client/sign-request.js';
import { SignalbankClient } from '../../src/client/signalbank-client.js';
import { startServeProcess } from '../support/serve-process.js';

const dir = mkdtempSync(join(tmpdir(), 'sb-serve-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hashOf = (i: number): string => (0x5a5a5a5a ^ i).toString(16).padStart(8, '0').repeat(8);

describe('signalbank serve', () => {
  it('initialises on first start, serves, and drains the request in flight on SIGTERM', async () => {
    const db = join(dir, 'data', 'bank.db');
    const first = await startServeProcess(['--db', db, '--audience', 'serve-test', '--json']);
    expect(first.logs.find((l) => l['msg'] === 'initialised a new database')).toBeDefined();
    // What it created is its owner's only: the folder, the database and the admin's key.
    const modeOf = (path: string): number => statSync(path).mode & 0o777;
    expect([modeOf(join(dir, 'data')), modeOf(db), modeOf(join(dir, 'data', 'admin.private.jwk.json'))]).toEqual([0o700, 0o600, 0o600]);
    const admin = new SignalbankClient({ baseUrl: first.url, audience: 'serve-test', key: await loadSigningKey('admin', join(dir, 'data', 'admin.private.jwk.json')) });
    const pair = await generateMemberKeyPair();
    expect((await admin.send('POST', '/v1/admin/members', { id: 'acme', name: 'Acme', roles: ['submitter', 'matcher'] })).status).toBe(201);
    const added = await admin.send('POST', '/v1/admin/members/acme/keys', { jwk: pair.publicJwk });
    const kid = (added.body as { kid: string }).kid;

    const items = Array.from({ length: 10_000 }, (_, i) => ({ type: 'pdq', hash: hashOf(i), labels: ['suicide'], media: 'image' as const, quality: 90 }));
    const body = Buffer.from(JSON.stringify({ signals: items }));
    const authorization = await signRequest(await signingKeyFromJwk('acme', { ...pair.privateJwk, kid }), { method: 'POST', target: '/v1/signals', body }, { audience: 'serve-test' });
    // `Expect: 100-continue` makes the server say when it has the request's headers: the request
    // is then certainly in flight when SIGTERM arrives, however loaded the machine. The body
    // follows the signal, so the service must keep reading and answer before it exits.
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${first.url}/v1/signals`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json', 'content-length': body.length, expect: '100-continue' },
      });
      req.on('continue', () => {
        first.child.kill('SIGTERM');
        setTimeout(() => req.end(body), 100);
      });
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
    });
    expect(answer.status).toBe(200);
    const results = (JSON.parse(answer.body) as { results: { status: string }[] }).results;
    expect(results.filter((r) => r.status === 'created')).toHaveLength(10_000);
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
