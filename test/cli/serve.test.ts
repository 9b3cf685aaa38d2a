/**
 * `signalbank serve` as an operator runs it: a child process that initialises a missing database,
 * private to its owner, serves signed requests, and on SIGTERM or Ctrl-C (SIGINT) finishes the
 * request in flight before it exits 0. A repeated SIGTERM changes nothing; a second Ctrl-C exits
 * at once, with 1.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateMemberKeyPair } from '../../src/auth/member-keys.js';
import { loadSigningKey, signingKeyFromJwk, signRequest, type SigningKey } from '../../src/client/sign-request.js';
import { SignalbankClient } from '../../src/client/signalbank-client.js';
import { startServeProcess, type ServeProcess } from '../support/serve-process.js';

const dir = mkdtempSync(join(tmpdir(), 'sb-serve-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hashOf = (i: number): string => (0x5a5a5a5a ^ i).toString(16).padStart(8, '0').repeat(8);

/**
 * Submits signals `from`…`from + count − 1` with `Expect: 100-continue`: the server says when it
 * has the request's headers, so the request is certainly in flight when `whileInFlight` runs,
 * however loaded the machine. The body follows 100 ms later, so the service must keep reading.
 */
async function submitInFlight(server: ServeProcess, key: SigningKey, from: number, count: number, whileInFlight: () => void): Promise<{ status: number; body: string }> {
  const items = Array.from({ length: count }, (_, i) => ({ type: 'pdq', hash: hashOf(from + i), labels: ['suicide'], media: 'image' as const, quality: 90 }));
  const body = Buffer.from(JSON.stringify({ signals: items }));
  const authorization = await signRequest(key, { method: 'POST', target: '/v1/signals', body }, { audience: 'serve-test' });
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}/v1/signals`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json', 'content-length': body.length, expect: '100-continue' },
    });
    req.on('continue', () => {
      whileInFlight();
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
}

const created = (answer: { body: string }): number => (JSON.parse(answer.body) as { results: { status: string }[] }).results.filter((r) => r.status === 'created').length;

describe('signalbank serve', () => {
  it('initialises on first start, serves, and drains the request in flight on SIGTERM and on Ctrl-C', async () => {
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

    const acme = await signingKeyFromJwk('acme', { ...pair.privateJwk, kid });

    // SIGTERM while a full batch is in flight, and again (supervisors send several): it is answered and kept.
    const answer = await submitInFlight(first, acme, 0, 10_000, () => {
      first.child.kill('SIGTERM');
      setTimeout(() => first.child.kill('SIGTERM'), 20);
    });
    expect(answer.status).toBe(200);
    expect(created(answer)).toBe(10_000);
    expect(await first.exited).toBe(0);

    const second = await startServeProcess(['--db', db, '--audience', 'serve-test']);
    try {
      expect(second.logs.find((l) => l['msg'] === 'initialised a new database')).toBeUndefined();
      expect(second.logs.find((l) => l['msg'] === 'index loaded')).toMatchObject({ indexSizes: { pdq: 10_000 } });
      const again = new SignalbankClient({ baseUrl: second.url, audience: 'serve-test', key: await signingKeyFromJwk('acme', { ...pair.privateJwk, kid }) });
      const [matches] = (await again.match([{ type: 'pdq', hash: hashOf(9_999) }])).results;
      const hits = matches && 'matches' in matches ? matches.matches : [];
      expect(hits.find((hit) => hit.distance === 0)?.hash).toBe(hashOf(9_999));
      // Ctrl-C (SIGINT) while a batch is in flight: answered and kept too.
      const interrupted = await submitInFlight(second, acme, 10_000, 1_000, () => second.child.kill('SIGINT'));
      expect(interrupted.status).toBe(200);
      expect(created(interrupted)).toBe(1_000);
      expect(await second.exited).toBe(0);
      expect(second.logs.find((l) => l['msg'] === 'signal received')).toMatchObject({ signal: 'SIGINT' });
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }

    // A second Ctrl-C does not wait for the request in flight: the process exits at once, with 1.
    const third = await startServeProcess(['--db', db, '--audience', 'serve-test']);
    try {
      expect(third.logs.find((l) => l['msg'] === 'index loaded')).toMatchObject({ indexSizes: { pdq: 11_000 } });
      const cut = submitInFlight(third, acme, 20_000, 1_000, () => {
        third.child.kill('SIGINT');
        setTimeout(() => third.child.kill('SIGINT'), 20);
      }).then(
        () => 'answered',
        () => 'cut off',
      );
      expect(await third.exited).toBe(1);
      expect(await cut).toBe('cut off');
      expect(third.logs.find((l) => l['msg'] === 'second interrupt: exiting without finishing in-flight requests')).toBeDefined();
    } finally {
      third.child.kill('SIGKILL');
      await third.exited;
    }
  });
});
