/**
 * The attack matrix, against the real server. One table holds every SPEC §3 signature failure
 * (each crafted to trigger its code), replay, revoked keys, suspended members and missing roles;
 * each attack is a submit of a fresh hash (or another state-changing request where the attack
 * needs one), and after each refusal the hash is not in the bank and the signal log has not grown.
 * Then cross-member attempts: retracting another member's submission, learning who submitted a
 * signal (no member id, kid or `ref` of another member in any answer, errors included), and every
 * signed route of the OpenAPI document (generated from the route table), its roles checked against
 * SPEC §5, called by each single-role member (and one without roles) that lacks them.
 * Jobs: another member's job read, downloaded or cancelled gets the very answer a job that does not
 * exist gets and changes nothing; the list shows only the caller's jobs; an upload without the
 * matcher role, or whose body is not the signed one, is refused and leaves no row behind.
 */
import { CompactSign, generateKeyPair } from 'jose';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyDigest } from '../../src/auth/request-token.js';
import { signRequest, type SigningKey } from '../../src/client/sign-request.js';
import type { Role } from '../../src/store/store.js';
import { problemOf } from '../support/problem-answer.js';
import { startTestService, type TestMember, type TestService } from '../support/test-service.js';

const HASH = 'd8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22';
const encoder = new TextEncoder();
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const freshHash = (): string => randomBytes(32).toString('hex');
const submitBody = (hash: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ signals: [{ type: 'pdq', hash, labels: ['suicide'], media: 'image', quality: 90, ...extra }] });

let t: TestService;
let alice: TestMember;
let bob: TestMember;
let carol: TestMember;
let revoked: TestMember;
let suspended: TestMember;
let auditor: TestMember;

beforeAll(async () => {
  t = await startTestService();
  alice = await t.member('alice', ['submitter', 'matcher']);
  bob = await t.member('bob', ['matcher']);
  carol = await t.member('carol', ['submitter'], 'ES256');
  revoked = await t.member('revoked', ['submitter']);
  suspended = await t.member('suspended', ['submitter']);
  auditor = await t.member('auditor', ['auditor']);
  await t.admin.client.request('DELETE', `/v1/admin/members/revoked/keys/${revoked.key.kid}`);
  await t.admin.client.request('PATCH', '/v1/admin/members/suspended', { status: 'suspended' });
});
afterAll(async () => t?.stop());

interface Attempt {
  method?: string;
  target?: string;
  body?: string;
  authorization?: string;
  contentType?: string;
}

async function send(attempt: Attempt): Promise<{ status: number; text: string; body: { code?: string; detail?: string } }> {
  const method = attempt.method ?? 'GET';
  const headers: Record<string, string> = {};
  if (attempt.authorization !== undefined) headers['authorization'] = attempt.authorization;
  if (attempt.body !== undefined) headers['content-type'] = attempt.contentType ?? 'application/json';
  const url = `${t.service.url}${attempt.target ?? '/v1/taxonomy'}`;
  const init = { method, headers, ...(attempt.body !== undefined && { body: attempt.body }) };
  // After a restart a kept-alive socket may be stale; the same token is sent again on a new one.
  const response = await fetch(url, init).catch(() => fetch(url, init));
  expect(response.headers.get('content-type') ?? '').toMatch(response.ok ? /json/ : /application\/problem\+json/);
  const text = await response.text();
  return { status: response.status, text, body: JSON.parse(text) as { code?: string } };
}

interface RequestShape {
  method?: string;
  target?: string;
  body?: string;
}

/** A correctly signed request for `key`, with any claim overridden. */
async function signed(key: SigningKey, request: RequestShape, claims: Record<string, unknown> = {}, options: { now?: number } = {}): Promise<Attempt> {
  const method = request.method ?? 'GET';
  const target = request.target ?? '/v1/taxonomy';
  const authorization = await signRequest(key, { method, target, body: request.body === undefined ? undefined : encoder.encode(request.body) }, { now: options.now ?? t.now, claims });
  return { method, target, authorization, ...(request.body !== undefined && { body: request.body }) };
}

/** A token with a hand-made header and claims, signed by `key` (or not signed at all). */
async function crafted(header: Record<string, unknown>, claims: Record<string, unknown>, key?: SigningKey): Promise<string> {
  if (!key) return `JWS ${b64(header)}.${b64(claims)}.`;
  const token = await new CompactSign(encoder.encode(JSON.stringify(claims))).setProtectedHeader(header as { alg: string }).sign(key.privateKey);
  return `JWS ${token}`;
}

/** Valid claims for `request` as `member`. */
function claimsFor(member: string, request: Required<RequestShape>): Record<string, unknown> {
  const iat = Math.floor(t.now / 1000);
  return { iss: member, aud: 'signalbank', iat, exp: iat + 60, jti: randomBytes(16).toString('base64url'), htm: request.method, htu: request.target, bd: bodyDigest(encoder.encode(request.body)) };
}

/** The size of the signal log, as an auditor sees it. */
async function logSize(): Promise<number> {
  return (await auditor.client.request<{ treeSize: number }>('GET', '/v1/audit/checkpoint')).treeSize;
}

async function assertNotInBank(hash: string): Promise<void> {
  expect((await alice.client.send('GET', `/v1/signals?type=pdq&hash=${hash}`)).status).toBe(404);
}

describe('accepted', () => {
  it('accepts EdDSA and ES256 signatures', async () => {
    expect((await send(await signed(alice.key, {}))).status).toBe(200);
    expect((await send(await signed(carol.key, {}))).status).toBe(200);
  });
  it('allows 30 s of clock skew either way', async () => {
    expect((await send(await signed(alice.key, {}, {}, { now: t.now + 25_000 }))).status).toBe(200);
    const iat = Math.floor(t.now / 1000) - 80;
    expect(await send(await signed(alice.key, {}, { iat, exp: iat + 60 }))).toMatchObject({ status: 200 });
  });
});

/**
 * Each row builds an attack on `submit`, a correctly shaped submit of a fresh hash by alice
 * (POST /v1/signals), from which it departs in one way.
 */
type Build = (submit: Required<RequestShape>) => Promise<Attempt>;
const now = () => Math.floor(t.now / 1000);

/** An Ed25519 `key` under its own kid and member, with a fresh private key that was never registered. */
async function impostorOf(key: SigningKey): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  return { ...key, privateKey };
}

const MATRIX: Array<[name: string, status: number, code: string, build: Build]> = [
  ['no Authorization header', 401, 'ERR_AUTH_MISSING', async (s) => ({ ...s })],
  ['another scheme', 401, 'ERR_AUTH_MALFORMED', async (s) => ({ ...s, authorization: 'Bearer abc.def.ghi' })],
  ['not a compact JWS', 401, 'ERR_AUTH_MALFORMED', async (s) => ({ ...s, authorization: 'JWS not-a-token' })],
  ['four parts', 401, 'ERR_AUTH_MALFORMED', async (s) => ({ ...s, authorization: 'JWS a.b.c.d' })],
  ['header not JSON', 401, 'ERR_AUTH_MALFORMED', async (s) => ({ ...s, authorization: `JWS ${Buffer.from('nope').toString('base64url')}.${b64({})}.sig` })],
  ['a claim missing (bd)', 401, 'ERR_AUTH_MALFORMED', async (s) => signed(alice.key, s, { bd: undefined })],
  ['a claim missing (jti)', 401, 'ERR_AUTH_MALFORMED', async (s) => signed(alice.key, s, { jti: undefined })],
  ['a claim of the wrong type', 401, 'ERR_AUTH_MALFORMED', async (s) => signed(alice.key, s, { iat: 'yesterday' })],
  ['a jti too short', 401, 'ERR_AUTH_MALFORMED', async (s) => signed(alice.key, s, { jti: 'short' })],
  ['a jti with bad characters', 401, 'ERR_AUTH_MALFORMED', async (s) => signed(alice.key, s, { jti: 'abcdefgh ijklmnop+/' })],
  ['iat >= exp', 401, 'ERR_AUTH_MALFORMED', async (s) => signed(alice.key, s, { iat: now(), exp: now() })],
  ['a wrong typ', 401, 'ERR_AUTH_MALFORMED', async (s) => ({ ...s, authorization: await crafted({ alg: 'EdDSA', kid: alice.key.kid, typ: 'JWT' }, claimsFor('alice', s), alice.key) })],
  ['no kid', 401, 'ERR_AUTH_MALFORMED', async (s) => ({ ...s, authorization: await crafted({ alg: 'EdDSA', typ: 'sb-req+jwt' }, claimsFor('alice', s), alice.key) })],
  ['alg none', 401, 'ERR_ALG_NOT_ALLOWED', async (s) => ({ ...s, authorization: await crafted({ alg: 'none', kid: alice.key.kid, typ: 'sb-req+jwt' }, claimsFor('alice', s)) })],
  [
    'HS256 with the public key as the secret',
    401,
    'ERR_ALG_NOT_ALLOWED',
    async (s) => {
      const secret = encoder.encode(JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: alice.privateJwk.x }));
      const token = await new CompactSign(encoder.encode(JSON.stringify(claimsFor('alice', s)))).setProtectedHeader({ alg: 'HS256', kid: alice.key.kid, typ: 'sb-req+jwt' }).sign(secret);
      return { ...s, authorization: `JWS ${token}` };
    },
  ],
  ['RS256', 401, 'ERR_ALG_NOT_ALLOWED', async (s) => ({ ...s, authorization: `JWS ${b64({ alg: 'RS256', kid: alice.key.kid, typ: 'sb-req+jwt' })}.${b64(claimsFor('alice', s))}.c2ln` })],
  ['an unknown kid', 401, 'ERR_KEY_UNKNOWN', async (s) => signed({ ...alice.key, kid: 'no-such-kid' }, s)],
  ["another member's kid", 401, 'ERR_KEY_UNKNOWN', async (s) => ({ ...s, authorization: await crafted({ alg: 'ES256', kid: carol.key.kid, typ: 'sb-req+jwt' }, claimsFor('alice', s), carol.key) })],
  ['iss naming another member than the key owner', 401, 'ERR_KEY_UNKNOWN', async (s) => signed(alice.key, s, { iss: 'carol' })],
  ['a revoked key', 401, 'ERR_KEY_REVOKED', async (s) => signed(revoked.key, s)],
  // Probing a kid without its private key learns nothing of its status.
  ["a revoked key's kid with a signature by another key", 401, 'ERR_SIGNATURE_INVALID', async (s) => signed(await impostorOf(revoked.key), s)],
  ['a signature by an unregistered key under a registered kid', 401, 'ERR_SIGNATURE_INVALID', async (s) => signed(await impostorOf(alice.key), s)],
  [
    'a tampered payload',
    401,
    'ERR_SIGNATURE_INVALID',
    async (s) => {
      const attempt = await signed(alice.key, s);
      const [header, , signature] = attempt.authorization!.slice(4).split('.');
      return { ...attempt, authorization: `JWS ${header}.${b64(claimsFor('alice', s))}.${signature}` };
    },
  ],
  ['ES256 header on an Ed25519 key', 401, 'ERR_SIGNATURE_INVALID', async (s) => ({ ...s, authorization: `JWS ${b64({ alg: 'ES256', kid: alice.key.kid, typ: 'sb-req+jwt' })}.${b64(claimsFor('alice', s))}.c2ln` })],
  ['a wrong audience', 401, 'ERR_AUDIENCE', async (s) => signed(alice.key, s, { aud: 'another-bank' })],
  ['expired', 401, 'ERR_EXPIRED', async (s) => signed(alice.key, s, { iat: now() - 200, exp: now() - 31 })],
  ['issued in the future', 401, 'ERR_NOT_YET_VALID', async (s) => signed(alice.key, s, { iat: now() + 31, exp: now() + 90 })],
  ['a lifetime over 300 s', 401, 'ERR_LIFETIME_TOO_LONG', async (s) => signed(alice.key, s, { iat: now(), exp: now() + 301 })],
  ['signed for another method', 401, 'ERR_METHOD_MISMATCH', async (s) => ({ ...(await signed(alice.key, { ...s, method: 'PATCH' })), method: 'POST' })],
  ['signed for another path', 401, 'ERR_URL_MISMATCH', async (s) => ({ ...(await signed(alice.key, { ...s, target: '/v1/match' })), target: s.target })],
  ['signed for another query', 401, 'ERR_URL_MISMATCH', async (s) => ({ ...(await signed(alice.key, { ...s, target: '/v1/signals?x=1' })), target: s.target })],
  ['a tampered body', 401, 'ERR_BODY_DIGEST', async (s) => ({ ...(await signed(alice.key, s)), body: s.body.replace('"suicide"', '"self_harm"') })],
  ['a body on a signed empty-body request', 401, 'ERR_BODY_DIGEST', async (s) => ({ ...(await signed(alice.key, { method: 'POST', target: s.target })), body: s.body })],
  [
    'a replayed jti (first used on a GET)',
    401,
    'ERR_REPLAY',
    async (s) => {
      const jti = randomBytes(16).toString('base64url');
      expect((await send(await signed(alice.key, {}, { jti }))).status).toBe(200);
      return signed(alice.key, s, { jti });
    },
  ],
  [
    'a replayed token (the same request sent twice)',
    401,
    'ERR_REPLAY',
    async () => {
      const first = await signed(alice.key, { method: 'POST', target: '/v1/signals', body: submitBody(freshHash()) });
      expect((await send(first)).status).toBe(200);
      return first;
    },
  ],
  ['a suspended member', 403, 'ERR_MEMBER_SUSPENDED', async (s) => signed(suspended.key, s)],
  ['a member without the role (matcher submitting)', 403, 'ERR_FORBIDDEN', async (s) => signed(bob.key, s)],
];

describe('the attack matrix: refused, and nothing changed', () => {
  it.each(MATRIX)('%s → %i %s', async (_name, status, code, build) => {
    const hash = freshHash();
    const attempt = await build({ method: 'POST', target: '/v1/signals', body: submitBody(hash) });
    const before = await logSize();
    const answer = await send(attempt);
    expect(answer.body.code).toBe(code);
    expect(answer.status).toBe(status);
    expect(answer.text).not.toMatch(/at .*\.(ts|js):\d+/);
    expect(await logSize()).toBe(before);
    await assertNotInBank(hash);
  });

  it('refuses a replayed submit after a restart, and the replay changes nothing', async () => {
    const body = submitBody(HASH);
    const attempt = await signed(alice.key, { method: 'POST', target: '/v1/signals', body });
    expect((await send(attempt)).status).toBe(200);
    await alice.client.retract((await alice.client.findSignal('pdq', HASH))['id'] as string);
    await t.restart();
    const before = await logSize();
    expect(await send(attempt)).toMatchObject({ status: 401, body: { code: 'ERR_REPLAY' } });
    expect((await alice.client.findSignal('pdq', HASH))['status']).toBe('retracted');
    expect(await logSize()).toBe(before);
  });

  // Routes whose changes write audit entries record the jti with the change (one commit), and
  // after the handler when it changed nothing: those replays are refused after a restart too.
  it('refuses after a restart the replay of a submit that changed nothing and of a refused retraction', async () => {
    const body = submitBody(HASH);
    expect(await send(await signed(alice.key, { method: 'POST', target: '/v1/signals', body }))).toMatchObject({ status: 200 });
    const unchanged = await signed(alice.key, { method: 'POST', target: '/v1/signals', body });
    expect(await send(unchanged)).toMatchObject({ status: 200 });
    const refused = await signed(alice.key, { method: 'DELETE', target: '/v1/signals/sig_0000000000000000000000/submission' });
    expect(await send(refused)).toMatchObject({ status: 404 });
    await t.restart();
    const before = await logSize();
    expect(await send(unchanged)).toMatchObject({ status: 401, body: { code: 'ERR_REPLAY' } });
    expect(await send(refused)).toMatchObject({ status: 401, body: { code: 'ERR_REPLAY' } });
    expect(await logSize()).toBe(before);
  });

  it('jtis are per member: another member may use the same one', async () => {
    const jti = randomBytes(16).toString('base64url');
    expect((await send(await signed(alice.key, {}, { jti }))).status).toBe(200);
    expect((await send(await signed(bob.key, {}, { jti }))).status).toBe(200);
  });

  it('suspension and revocation take effect on the next request', async () => {
    const dave = await t.member('dave', ['matcher']);
    expect((await send(await signed(dave.key, {}))).status).toBe(200);
    await t.admin.client.request('PATCH', '/v1/admin/members/dave', { status: 'suspended' });
    expect(await send(await signed(dave.key, {}))).toMatchObject({ status: 403, body: { code: 'ERR_MEMBER_SUSPENDED' } });
    await t.admin.client.request('PATCH', '/v1/admin/members/dave', { status: 'active' });
    expect((await send(await signed(dave.key, {}))).status).toBe(200);
    await t.admin.client.request('DELETE', `/v1/admin/members/dave/keys/${dave.key.kid}`);
    expect(await send(await signed(dave.key, {}))).toMatchObject({ status: 401, body: { code: 'ERR_KEY_REVOKED' } });
  });
});

describe('cross-member attempts', () => {
  const REF = 'alice-internal-case-77731';
  let mallory: TestMember;
  let signalId: string;
  let hash: string;

  beforeAll(async () => {
    mallory = await t.member('mallory', ['submitter', 'matcher']);
    hash = freshHash();
    const answer = await alice.client.submit([{ type: 'pdq', hash, labels: ['suicide', 'graphic'], media: 'image', quality: 90, ref: REF }]);
    signalId = answer.results[0]!.id!;
  });

  /** Nothing in an answer to mallory may name alice, her key or her ref. */
  function assertAnonymous(text: string): void {
    expect(text).not.toContain('alice');
    expect(text).not.toContain(alice.key.kid);
    expect(text).not.toContain(REF);
  }

  it("refuses to retract another member's submission, and changes nothing", async () => {
    const before = await logSize();
    const answer = await mallory.client.send('DELETE', `/v1/signals/${signalId}/submission`);
    expect(answer.status).toBe(404);
    expect(answer.body).toMatchObject({ code: 'ERR_NOT_FOUND' });
    assertAnonymous(JSON.stringify(answer.body));
    expect(await logSize()).toBe(before);
    const seen = await alice.client.getSignal(signalId);
    expect(seen).toMatchObject({ status: 'active', submitters: 1, mine: { submission: { status: 'active', ref: REF } } });
  });

  it('never tells another member who submitted a signal, in answers or in errors', async () => {
    const answers = [
      await mallory.client.send('GET', `/v1/signals/${signalId}`),
      await mallory.client.send('GET', `/v1/signals?type=pdq&hash=${hash}`),
      await mallory.client.send('GET', `/v1/match?type=pdq&hash=${hash}`),
      await mallory.client.send('POST', '/v1/match', { queries: [{ type: 'pdq', hash, maxDistance: 64 }], includeDisputed: true }),
      await mallory.client.send('POST', `/v1/signals/${signalId}/opinions`, { verdict: 'confirm' }),
      await mallory.client.send('POST', `/v1/signals/${signalId}/opinions`, { verdict: 'dispute_labels', labels: ['no_such_label'], reason: 'x' }),
      await mallory.client.send('DELETE', `/v1/signals/${signalId}/submission`),
      await mallory.client.send('GET', `/v1/audit/entries?member=alice`),
      await mallory.client.send('GET', '/v1/admin/members/alice'),
      await mallory.client.send('GET', `/v1/audit/export?format=ndjson`),
      await mallory.client.send('POST', '/v1/signals', JSON.parse(submitBody(hash))),
      await mallory.client.send('GET', `/v1/signals/${signalId}`),
      // Now a co-submitter: still only a count.
      await mallory.client.send('POST', `/v1/signals/${signalId}/opinions`, { verdict: 'false_positive' }),
      await mallory.client.send('POST', '/v1/match', { queries: [{ type: 'pdq', hash }] }),
    ];
    for (const answer of answers) assertAnonymous(JSON.stringify(answer.body));
    expect(answers[0]!.body).toMatchObject({ id: signalId, submitters: 1 });
    expect(answers[0]!.body).not.toHaveProperty('mine');
    expect(answers[10]!.body).toMatchObject({ results: [{ status: 'added', id: signalId }] });
    expect(answers[11]!.body).toMatchObject({ submitters: 2, mine: { submission: { status: 'active' } } });
    expect(answers[12]!.body).toMatchObject({ code: 'ERR_CONFLICT' });
  });

  /**
   * SPEC §5's roles per signed route. Every signed operation of the OpenAPI document (generated
   * from the route table) must be listed here with the roles it declares, so a new route cannot be
   * left out of the matrix below and none may drift from the SPEC.
   */
  const SPEC_ROLES: ReadonlyArray<[method: string, path: RegExp, roles: readonly Role[] | 'any']> = [
    ['get', /^\/v1\/taxonomy$/, 'any'],
    ['get', /^\/v1\/signals(\/\{id\})?$/, 'any'],
    ['post', /^\/v1\/signals$/, ['submitter']],
    ['delete', /^\/v1\/signals\/\{id\}\/submission$/, ['submitter']],
    ['post', /^\/v1\/signals\/\{id\}\/opinions$/, ['submitter', 'matcher']],
    ['*', /^\/v1\/match$/, ['matcher']],
    ['*', /^\/v1\/jobs(\/|$)/, ['matcher']],
    ['get', /^\/v1\/changes$/, ['sync']],
    ['get', /^\/v1\/audit\//, ['auditor']],
    ['*', /^\/v1\/admin\//, ['admin']],
  ];
  const specRoles = (method: string, path: string) => SPEC_ROLES.find(([m, pattern]) => (m === '*' || m === method) && pattern.test(path))?.[2];

  it('refuses every signed route to every member without its role, and changes nothing', async () => {
    const document = (await (await fetch(`${t.service.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { 'x-roles'?: unknown }>> };
    const single: Record<Role | 'none', TestMember> = {
      submitter: carol,
      matcher: bob,
      sync: await t.member('syncer', ['sync']),
      auditor,
      admin: t.admin,
      none: await t.member('no-roles', []),
    };
    const job = await alice.client.createJob([{ type: 'pdq', hash, maxDistance: 31 }]);
    const intruderHash = freshHash();
    const idOf = (path: string) => (path.startsWith('/v1/jobs') ? job.id : path.startsWith('/v1/signals') ? signalId : 'alice');
    /** A body the route would act on, were the caller allowed: a refusal must be why nothing changes. */
    const bodyOf = (method: string, path: string): unknown => {
      if (method === 'get' || method === 'delete') return undefined;
      if (path === '/v1/signals') return JSON.parse(submitBody(intruderHash));
      if (path.endsWith('/opinions')) return { verdict: 'false_positive' };
      if (path === '/v1/match') return { queries: [{ type: 'pdq', hash }] };
      return { id: 'intruder', name: 'x', roles: ['admin'], status: 'suspended', jwk: { kty: 'OKP' }, labels: ['x'], kind: 'modifier', description: 'x' };
    };
    const before = { log: await logSize(), members: await t.admin.client.request('GET', '/v1/admin/members'), signal: await alice.client.getSignal(signalId) };
    const signed: string[] = [];
    let refused = 0;
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const roles = operation['x-roles'];
        if (roles === 'public') continue;
        signed.push(`${method} ${path}`);
        expect({ route: `${method} ${path}`, roles }).toEqual({ route: `${method} ${path}`, roles: specRoles(method, path) ?? 'not in SPEC §5' });
        if (!Array.isArray(roles)) continue;
        const target = path.replace('{id}', idOf(path)).replace('{kid}', encodeURIComponent(alice.key.kid));
        for (const [role, member] of Object.entries(single)) {
          if (roles.includes(role)) continue;
          const answer = await member.client.send(method.toUpperCase(), target, bodyOf(method, path));
          expect({ route: `${method} ${path}`, role, ...(await problemOf(answer)) }).toEqual({ route: `${method} ${path}`, role, status: 403, code: 'ERR_FORBIDDEN' });
          refused++;
        }
      }
    }
    // Each family of SPEC §5 is in the document: a route table that lost one would pass the loop above.
    for (const [method, pattern] of SPEC_ROLES) expect(signed.some((route) => route.startsWith(method === '*' ? '' : `${method} `) && pattern.test(route.split(' ')[1]!)), `${method} ${pattern}`).toBe(true);
    expect(refused).toBeGreaterThanOrEqual(120);
    console.info(`attack matrix: ${MATRIX.length} signature rows, ${refused} role/route pairs refused`);
    expect(await logSize()).toBe(before.log);
    expect(await t.admin.client.request('GET', '/v1/admin/members')).toEqual(before.members);
    expect(await alice.client.getSignal(signalId)).toEqual(before.signal);
    await assertNotInBank(intruderHash);
    expect((await alice.client.jobStatus(job.id)).status).not.toBe('cancelled');
  });
});

describe('cross-member attempts on batch jobs', () => {
  let mallory: TestMember;
  const jobLines = (n: number) => Array.from({ length: n }, () => ({ type: 'pdq', hash: freshHash(), maxDistance: 31 }));
  /** Rows of the job tables: a refused upload must leave none behind. */
  const jobRows = () => ['jobs', 'job_query_blocks', 'job_result_blocks'].map((table) => t.service.store.db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number);
  /** A problem answer without what may differ between two ids: the id itself and the request id. */
  const withoutId = (body: unknown, id: string) => ({ ...(JSON.parse(JSON.stringify(body).replaceAll(id, '<id>')) as Record<string, unknown>), requestId: undefined });

  beforeAll(async () => {
    mallory = await t.member('mallory-jobs', ['submitter', 'matcher']);
  });

  it("answers another member's job exactly like a missing one, for status, results and cancel, and changes nothing", async () => {
    // The runner is held while mallory tries, so that a cancel that went through would show.
    await t.service.jobs.runner.stop();
    const created = await alice.client.createJob(jobLines(30), { limit: 3 });
    const missing = randomBytes(15).toString('base64url');
    const before = await logSize();
    const rows = jobRows();
    for (const [method, suffix] of [
      ['GET', ''],
      ['GET', '/results'],
      ['DELETE', ''],
    ] as const) {
      const theirs = await mallory.client.send(method, `/v1/jobs/${created.id}${suffix}`);
      const none = await mallory.client.send(method, `/v1/jobs/${missing}${suffix}`);
      expect({ method, suffix, status: theirs.status, code: (theirs.body as { code?: string }).code }).toEqual({ method, suffix, status: 404, code: 'ERR_NOT_FOUND' });
      expect(withoutId(theirs.body, created.id)).toEqual(withoutId(none.body, missing));
      expect(JSON.stringify(theirs.body)).not.toContain('alice');
    }
    expect(await logSize()).toBe(before);
    expect(jobRows()).toEqual(rows);
    expect(await alice.client.jobStatus(created.id)).toMatchObject({ status: 'queued', done: 0, total: 30 });
    t.service.jobs.runner.start();
    const deadline = Date.now() + 20_000;
    let job = await alice.client.jobStatus(created.id);
    while ((job.status === 'queued' || job.status === 'running') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      job = await alice.client.jobStatus(created.id);
    }
    expect(job).toMatchObject({ status: 'done', done: 30 });
    let lines = 0;
    for await (const chunk of await alice.client.jobResults(created.id)) lines += Buffer.from(chunk).toString().split('\n').length - 1;
    expect(lines).toBe(30);
  });

  it("lists only the caller's jobs", async () => {
    const theirs = await mallory.client.createJob(jobLines(2));
    const mine = await alice.client.createJob(jobLines(2));
    const malloryList = (await mallory.client.listJobs()).jobs.map((job) => job.id);
    const aliceList = (await alice.client.listJobs()).jobs.map((job) => job.id);
    expect(malloryList).toContain(theirs.id);
    expect(malloryList).not.toContain(mine.id);
    expect(aliceList).toContain(mine.id);
    expect(aliceList).not.toContain(theirs.id);
    const owned = t.service.store.db.prepare("SELECT public_id FROM jobs WHERE member_id = 'mallory-jobs' AND status <> 'receiving'").pluck().all() as string[];
    expect(malloryList.sort()).toEqual(owned.sort());
  });

  it('refuses a job upload from every member without the matcher role, and keeps nothing', async () => {
    const others = [carol, auditor, t.admin, await t.member('syncer-jobs', ['sync'])];
    const before = await logSize();
    const rows = jobRows();
    for (const member of others) {
      const body = encoder.encode(jobLines(3).map((line) => JSON.stringify(line)).join('\n'));
      const attempt = await signed(member.key, { method: 'POST', target: '/v1/jobs', body: Buffer.from(body).toString() });
      const answer = await send({ ...attempt, contentType: 'application/x-ndjson' });
      expect({ member: member.key.kid, status: answer.status, code: answer.body.code }).toEqual({ member: member.key.kid, status: 403, code: 'ERR_FORBIDDEN' });
    }
    expect(await logSize()).toBe(before);
    expect(jobRows()).toEqual(rows);
  });

  it('refuses a signed job upload whose body is not the signed one, and keeps nothing', async () => {
    const signedBody = jobLines(50).map((line) => JSON.stringify(line)).join('\n');
    const sentBody = jobLines(50).map((line) => JSON.stringify(line)).join('\n');
    const before = await logSize();
    const rows = jobRows();
    for (const body of [sentBody, `${signedBody}\n${JSON.stringify(jobLines(1)[0])}`, signedBody.slice(0, -10)]) {
      const attempt = await signed(alice.key, { method: 'POST', target: '/v1/jobs', body: signedBody });
      const answer = await send({ ...attempt, body, contentType: 'application/x-ndjson' });
      expect(answer).toMatchObject({ status: 401, body: { code: 'ERR_BODY_DIGEST' } });
      expect(jobRows()).toEqual(rows);
    }
    expect(await logSize()).toBe(before);
    expect((await alice.client.listJobs()).jobs.every((job) => job.total !== 50)).toBe(true);
  });
});
