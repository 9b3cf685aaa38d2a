/**
 * The operator's and member's first steps through the real CLI against a real server: init,
 * keygen, member and key administration (also revoking a key), submit and match, input the
 * submit command refuses rather than changes, suspension, and an online backup.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, runCli } from '../support/run-cli.js';
import { startTestService, type TestService } from '../support/test-service.js';

const HASH = 'd8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22';
const NEAR = 'd8f8f0cce0f4e84f0637022a028f67f0b36e2ed596623e1d33e6b39c4e9c9b22';

let t: TestService;
let adminEnv: Record<string, string>;

beforeAll(async () => {
  t = await startTestService({}, { realClock: true }); // the CLI signs at real time
  adminEnv = { SIGNALBANK_URL: t.service.url, SIGNALBANK_MEMBER: 'admin', SIGNALBANK_KEY: t.service.initialised!.admin!.privateKeyPath };
});
afterAll(async () => t?.stop());

describe('signalbank CLI', () => {
  it('initialises a database with an admin key only its owner can read', async () => {
    const db = join(t.dir, 'fresh', 'bank.db');
    const result = await runCli(['init', '--db', db, '--json']);
    expect(result.code).toBe(0);
    const [report] = jsonLines(result.stdout) as [{ created: boolean; admin: { kid: string; privateKeyPath: string } }];
    expect(report.created).toBe(true);
    expect(statSync(report.admin.privateKeyPath).mode & 0o777).toBe(0o600);
    expect([statSync(join(t.dir, 'fresh')).mode & 0o777, statSync(db).mode & 0o777]).toEqual([0o700, 0o600]);
    expect(JSON.parse(readFileSync(report.admin.privateKeyPath, 'utf8'))).toMatchObject({ kid: report.admin.kid, kty: 'OKP', crv: 'Ed25519' });
    const again = await runCli(['init', '--db', db]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already initialised');
  });

  it('adds a member with a key, submits and matches', async () => {
    const privatePath = join(t.dir, 'alice.private.jwk.json');
    const keygen = await runCli(['keygen', '--out', privatePath]);
    expect(keygen.code).toBe(0);
    const publicJwk = JSON.parse(keygen.stdout) as { kid: string; d?: string };
    expect(publicJwk.d).toBeUndefined();
    expect(statSync(privatePath).mode & 0o777).toBe(0o600);
    const publicPath = join(t.dir, 'alice.public.jwk.json');
    writeFileSync(publicPath, keygen.stdout);

    const add = await runCli(['member', 'add', 'alice', '--name', 'Alice Video', '--roles', 'submitter,matcher', '--json'], { env: adminEnv });
    expect(add.code).toBe(0);
    expect(jsonLines(add.stdout)[0]).toMatchObject({ id: 'alice', roles: ['submitter', 'matcher'] });
    const key = await runCli(['key', 'add', 'alice', publicPath, '--json'], { env: adminEnv });
    expect(key.code).toBe(0);
    expect(jsonLines(key.stdout)[0]).toMatchObject({ kid: publicJwk.kid, status: 'active' });

    const alice = { SIGNALBANK_URL: t.service.url, SIGNALBANK_MEMBER: 'alice', SIGNALBANK_KEY: privatePath };
    const csv = `type,hash,labels,quality\npdq,${HASH},suicide;graphic,100\nmd5,9e107d9d372bb6826bd81d3542a419d6,self_harm\npdq,not-a-hash,suicide\n`;
    const submit = await runCli(['submit', '--json'], { env: alice, stdin: csv });
    expect(submit.code).toBe(1);
    const results = jsonLines(submit.stdout);
    expect(results.map((r) => r['status'])).toEqual(['created', 'created', 'rejected']);
    expect(results[2]).toMatchObject({ line: 4, error: { code: 'ERR_INVALID_HASH' } });

    const ndjson = `${JSON.stringify({ file: 'a.jpg', pdq: NEAR, pdqQuality: 100 })}\n`;
    const fromHash = await runCli(['submit', '--labels', 'self_harm', '--json'], { env: alice, stdin: ndjson });
    expect(fromHash.code).toBe(0);
    expect(jsonLines(fromHash.stdout)[0]).toMatchObject({ type: 'pdq', status: 'created' });

    const match = await runCli(['match', HASH.toUpperCase(), '--json'], { env: alice });
    expect(match.code).toBe(0);
    const [answer] = jsonLines(match.stdout) as [{ matches: { hash: string; distance: number; labels: string[] }[] }];
    expect(answer.matches.map((m) => m.hash)).toEqual([HASH, NEAR]);
    expect(answer.matches[0]?.labels).toEqual(['graphic', 'suicide']);
    const text = await runCli(['match', HASH, '--max-distance', '0'], { env: alice });
    expect(text.stdout).toContain('1 match');

    const suspend = await runCli(['member', 'update', 'alice', '--status', 'suspended'], { env: adminEnv });
    expect(suspend.code).toBe(0);
    const refused = await runCli(['match', HASH], { env: alice });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('ERR_MEMBER_SUSPENDED');

    const list = await runCli(['member', 'list'], { env: adminEnv });
    expect(list.stdout).toMatch(/alice\s+suspended\s+submitter,matcher/);
  });

  it('revokes a key: requests signed with it are refused from then on; an unknown kid is a clear error', async () => {
    const kate = await t.member('kate', ['matcher']);
    expect((await kate.client.send('GET', '/v1/taxonomy')).status).toBe(200);
    const revoke = await runCli(['key', 'revoke', 'kate', kate.key.kid, '--json'], { env: adminEnv });
    expect(revoke.code).toBe(0);
    expect(jsonLines(revoke.stdout)[0]).toMatchObject({ kid: kate.key.kid, status: 'revoked' });
    const refused = await kate.client.send('GET', '/v1/taxonomy');
    expect({ status: refused.status, code: (refused.body as { code?: string }).code }).toEqual({ status: 401, code: 'ERR_KEY_REVOKED' });

    const unknown = await runCli(['key', 'revoke', 'kate', 'no-such-kid'], { env: adminEnv });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error ERR_NOT_FOUND: .*no-such-kid/m);
    expect(unknown.stderr).not.toMatch(/at .*\.(ts|js):\d+/);
  });

  it('generates a P-256 key with --alg ES256 that the bank accepts; any other --alg is a usage error', async () => {
    const privatePath = join(t.dir, 'pat.private.jwk.json');
    const keygen = await runCli(['keygen', '--alg', 'ES256', '--out', privatePath]);
    expect(keygen.code).toBe(0);
    const publicJwk = JSON.parse(keygen.stdout) as Record<string, unknown>;
    expect(publicJwk).toMatchObject({ kty: 'EC', crv: 'P-256' });
    expect(publicJwk['d']).toBeUndefined();
    expect(statSync(privatePath).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(privatePath, 'utf8'))).toMatchObject({ kty: 'EC', crv: 'P-256', kid: publicJwk['kid'], d: expect.any(String) as string });
    const publicPath = join(t.dir, 'pat.public.jwk.json');
    writeFileSync(publicPath, keygen.stdout);
    expect((await runCli(['member', 'add', 'pat', '--name', 'Pat', '--roles', 'matcher'], { env: adminEnv })).code).toBe(0);
    expect((await runCli(['key', 'add', 'pat', publicPath], { env: adminEnv })).code).toBe(0);
    const match = await runCli(['match', HASH, '--json'], { env: { SIGNALBANK_URL: t.service.url, SIGNALBANK_MEMBER: 'pat', SIGNALBANK_KEY: privatePath } });
    expect(match.code).toBe(0);
    expect((jsonLines(match.stdout)[0] as { matches: { hash: string }[] }).matches.map((m) => m.hash)).toContain(HASH);

    const otherPath = join(t.dir, 'rsa.private.jwk.json');
    const usage = await runCli(['keygen', '--alg', 'RS256', '--out', otherPath]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("option '--alg <alg>' argument 'RS256' is invalid");
    expect(usage.stderr).toContain('EdDSA, ES256');
    expect(() => statSync(otherPath)).toThrow();
  });

  it('refuses a --media other than image or video as a usage error, before sending anything', async () => {
    const hash = `${HASH.slice(0, 60)}0001`;
    const ndjson = `${JSON.stringify({ type: 'pdq', hash, labels: ['suicide'], quality: 90 })}\n`;
    const usage = await runCli(['submit', '--media', 'audio', '--json'], { env: adminEnv, stdin: ndjson });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("option '--media <media>' argument 'audio' is invalid");
    expect(usage.stderr).toContain('image, video');
    expect(usage.stdout).toBe('');
    expect((await t.admin.client.send('GET', `/v1/signals?type=pdq&hash=${hash}`)).status).toBe(404);
  });

  it('submits the good lines and reports each line whose media or ref it cannot take as that line’s error', async () => {
    const submitter = await t.member('sam', ['submitter']);
    const env = { SIGNALBANK_URL: t.service.url, SIGNALBANK_MEMBER: 'sam', SIGNALBANK_KEY: join(t.dir, 'sam.private.jwk.json') };
    writeFileSync(env.SIGNALBANK_KEY, JSON.stringify(submitter.privateJwk));
    const hashes = ['0002', '0003', '0004'].map((tail) => `${HASH.slice(0, 60)}${tail}`);
    const lines = [
      { type: 'pdq', hash: hashes[0], labels: ['suicide'], quality: 90, media: 'audio' },
      { type: 'pdq', hash: hashes[1], labels: ['suicide'], quality: 90, ref: 4711 },
      { type: 'pdq', hash: hashes[2], labels: ['suicide'], quality: 90, ref: 'case-9' },
    ];
    const submit = await runCli(['submit', '--media', 'video', '--json'], { env, stdin: lines.map((line) => JSON.stringify(line)).join('\n') });
    expect(submit.code).toBe(1);
    const results = jsonLines(submit.stdout);
    expect(results).toMatchObject([
      { line: 1, status: 'unreadable', error: { code: 'ERR_VALIDATION', message: expect.stringContaining('media') as unknown } },
      { line: 2, status: 'unreadable', error: { code: 'ERR_VALIDATION', message: expect.stringContaining('ref') as unknown } },
      { line: 3, status: 'created' },
    ]);
    for (const hash of hashes.slice(0, 2)) expect((await submitter.client.send('GET', `/v1/signals?type=pdq&hash=${hash}`)).status).toBe(404);
    expect(await submitter.client.findSignal('pdq', hashes[2]!)).toMatchObject({ media: 'video', mine: { submission: { ref: 'case-9' } } });
  });

  it('reports missing client settings and usage errors clearly', async () => {
    const missing = await runCli(['match', HASH], { env: { SIGNALBANK_URL: t.service.url } });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('ERR_VALIDATION');
    expect(missing.stderr).toContain('SIGNALBANK_MEMBER');
    const usage = await runCli(['member', 'add']);
    expect(usage.code).toBe(2);
    const down = await runCli(['match', HASH], { env: { ...adminEnv, SIGNALBANK_URL: 'http://127.0.0.1:9' } });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('ERR_UNAVAILABLE');
  });

  it('backs up the live database to a copy that passes its integrity check', async () => {
    const target = join(t.dir, 'backup.db');
    const result = await runCli(['backup', target, '--db', t.dbPath, '--json']);
    expect(result.code).toBe(0);
    expect(jsonLines(result.stdout)[0]).toMatchObject({ integrity: 'ok' });
    const again = await runCli(['backup', target, '--db', t.dbPath]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('ERR_CONFLICT');
  });
});
