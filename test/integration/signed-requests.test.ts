/**
 * The signature attack matrix of SPEC §3, performed against the real server: every failure code
 * has a request crafted to trigger it, and every refused state-changing request changes nothing.
 */
import { CompactSign, generateKeyPair } from 'jose';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyDigest } from '../../src/auth/request-token.js';
import { signRequest, type SigningKey } from '../../src/client/sign-request.js';
import { startTestService, type TestMember, type TestService } from '../support/test-service.js';

const HASH = 'd8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22';
const encoder = new TextEncoder();
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

let t: TestService;
let alice: TestMember;
let bob: TestMember;
let carol: TestMember;

beforeAll(async () => {
  t = await startTestService();
  alice = await t.member('alice', ['submitter', 'matcher']);
  bob = await t.member('bob', ['matcher']);
  carol = await t.member('carol', ['submitter'], 'ES256');
});
afterAll(async () => t?.stop());

interface Attempt {
  method?: string;
  target?: string;
  body?: string;
  authorization?: string;
  contentType?: string;
}

async function send(attempt: Attempt): Promise<{ status: number; body: { code?: string; detail?: string } }> {
  const method = attempt.method ?? 'GET';
  const headers: Record<string, string> = {};
  if (attempt.authorization !== undefined) headers['authorization'] = attempt.authorization;
  if (attempt.body !== undefined) headers['content-type'] = attempt.contentType ?? 'application/json';
  const url = `${t.service.url}${attempt.target ?? '/v1/taxonomy'}`;
  const init = { method, headers, ...(attempt.body !== undefined && { body: attempt.body }) };
  // After a restart a kept-alive socket may be stale; the same token is sent again on a new one.
  const response = await fetch(url, init).catch(() => fetch(url, init));
  expect(response.headers.get('content-type') ?? '').toMatch(response.ok ? /json/ : /application\/problem\+json/);
  return { status: response.status, body: (await response.json()) as { code?: string } };
}

/** A correctly signed request for `key`, with any claim overridden. */
async function signed(key: SigningKey, request: { method?: string; target?: string; body?: string }, claims: Record<string, unknown> = {}, options: { now?: number } = {}): Promise<Attempt> {
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

function baseClaims(member: string, target = '/v1/taxonomy', method = 'GET'): Record<string, unknown> {
  const iat = Math.floor(t.now / 1000);
  return { iss: member, aud: 'signalbank', iat, exp: iat + 60, jti: randomBytes(16).toString('base64url'), htm: method, htu: target, bd: bodyDigest(undefined) };
}

describe('accepted', () => {
  it('accepts EdDSA and ES256 signatures', async () => {
    expect((await send(await signed(alice.key, {}))).status).toBe(200);
    expect((await send(await signed(carol.key, {}))).status).toBe(200);
  });
  it('allows 30 s of clock skew either way', async () => {
    expect((await send(await signed(alice.key, {}, {}, { now: t.now + 25_000 }))).status).toBe(200);
    const iat = Math.floor(t.now / 1000) - 80;
    expect((await send(await signed(alice.key, {}, { iat, exp: iat + 60 })))).toMatchObject({ status: 200 });
  });
});

describe('refused with 401', () => {
  const cases: Array<[name: string, code: string, build: () => Promise<Attempt>]> = [
    ['no Authorization header', 'ERR_AUTH_MISSING', async () => ({})],
    ['another scheme', 'ERR_AUTH_MALFORMED', async () => ({ authorization: 'Bearer abc.def.ghi' })],
    ['not a compact JWS', 'ERR_AUTH_MALFORMED', async () => ({ authorization: 'JWS not-a-token' })],
    ['four parts', 'ERR_AUTH_MALFORMED', async () => ({ authorization: 'JWS a.b.c.d' })],
    ['header not JSON', 'ERR_AUTH_MALFORMED', async () => ({ authorization: `JWS ${Buffer.from('nope').toString('base64url')}.${b64({})}.sig` })],
    ['a claim missing (bd)', 'ERR_AUTH_MALFORMED', async () => signed(alice.key, {}, { bd: undefined })],
    ['a claim missing (jti)', 'ERR_AUTH_MALFORMED', async () => signed(alice.key, {}, { jti: undefined })],
    ['a claim of the wrong type', 'ERR_AUTH_MALFORMED', async () => signed(alice.key, {}, { iat: 'yesterday' })],
    ['a jti too short', 'ERR_AUTH_MALFORMED', async () => signed(alice.key, {}, { jti: 'short' })],
    ['a jti with bad characters', 'ERR_AUTH_MALFORMED', async () => signed(alice.key, {}, { jti: 'abcdefgh ijklmnop+/' })],
    ['iat >= exp', 'ERR_AUTH_MALFORMED', async () => signed(alice.key, {}, { iat: Math.floor(t.now / 1000), exp: Math.floor(t.now / 1000) })],
    ['a wrong typ', 'ERR_AUTH_MALFORMED', async () => ({ authorization: await crafted({ alg: 'EdDSA', kid: alice.key.kid, typ: 'JWT' }, baseClaims('alice'), alice.key) })],
    ['no kid', 'ERR_AUTH_MALFORMED', async () => ({ authorization: await crafted({ alg: 'EdDSA', typ: 'sb-req+jwt' }, baseClaims('alice'), alice.key) })],
    ['alg none', 'ERR_ALG_NOT_ALLOWED', async () => ({ authorization: await crafted({ alg: 'none', kid: alice.key.kid, typ: 'sb-req+jwt' }, baseClaims('alice')) })],
    [
      'HS256 with the public key as the secret',
      'ERR_ALG_NOT_ALLOWED',
      async () => {
        const secret = encoder.encode(JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: alice.privateJwk.x }));
        const token = await new CompactSign(encoder.encode(JSON.stringify(baseClaims('alice'))))
          .setProtectedHeader({ alg: 'HS256', kid: alice.key.kid, typ: 'sb-req+jwt' })
          .sign(secret);
        return { authorization: `JWS ${token}` };
      },
    ],
    ['RS256', 'ERR_ALG_NOT_ALLOWED', async () => ({ authorization: `JWS ${b64({ alg: 'RS256', kid: alice.key.kid, typ: 'sb-req+jwt' })}.${b64(baseClaims('alice'))}.c2ln` })],
    ['an unknown kid', 'ERR_KEY_UNKNOWN', async () => signed({ ...alice.key, kid: 'no-such-kid' }, {})],
    ["another member's kid", 'ERR_KEY_UNKNOWN', async () => ({ authorization: await crafted({ alg: 'EdDSA', kid: bob.key.kid, typ: 'sb-req+jwt' }, baseClaims('alice'), alice.key) })],
    ['iss naming another member than the key owner', 'ERR_KEY_UNKNOWN', async () => signed(alice.key, {}, { iss: 'bob' })],
    [
      'a signature by an unregistered key under a registered kid',
      'ERR_SIGNATURE_INVALID',
      async () => {
        const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
        return signed({ ...alice.key, privateKey }, {});
      },
    ],
    [
      'a tampered payload',
      'ERR_SIGNATURE_INVALID',
      async () => {
        const attempt = await signed(alice.key, {});
        const [header, , signature] = attempt.authorization!.slice(4).split('.');
        return { ...attempt, authorization: `JWS ${header}.${b64({ ...baseClaims('alice') })}.${signature}` };
      },
    ],
    ['ES256 header on an Ed25519 key', 'ERR_SIGNATURE_INVALID', async () => ({ authorization: `JWS ${b64({ alg: 'ES256', kid: alice.key.kid, typ: 'sb-req+jwt' })}.${b64(baseClaims('alice'))}.c2ln` })],
    ['a wrong audience', 'ERR_AUDIENCE', async () => signed(alice.key, {}, { aud: 'another-bank' })],
    ['expired', 'ERR_EXPIRED', async () => signed(alice.key, {}, { iat: Math.floor(t.now / 1000) - 200, exp: Math.floor(t.now / 1000) - 31 })],
    ['issued in the future', 'ERR_NOT_YET_VALID', async () => signed(alice.key, {}, { iat: Math.floor(t.now / 1000) + 31, exp: Math.floor(t.now / 1000) + 90 })],
    ['a lifetime over 300 s', 'ERR_LIFETIME_TOO_LONG', async () => signed(alice.key, {}, { iat: Math.floor(t.now / 1000), exp: Math.floor(t.now / 1000) + 301 })],
    ['signed for another method', 'ERR_METHOD_MISMATCH', async () => ({ ...(await signed(alice.key, {})), method: 'DELETE', target: '/v1/signals/x/submission' })],
    ['signed for another query', 'ERR_URL_MISMATCH', async () => ({ ...(await signed(alice.key, { target: `/v1/match?type=pdq&hash=${HASH}` })), target: `/v1/match?type=pdq&hash=${HASH}&maxDistance=64` })],
    ['signed for another path', 'ERR_URL_MISMATCH', async () => ({ ...(await signed(alice.key, {})), target: '/v1/signals?type=pdq&hash=' + HASH })],
    [
      'a tampered body',
      'ERR_BODY_DIGEST',
      async () => {
        const attempt = await signed(alice.key, { method: 'POST', target: '/v1/match', body: JSON.stringify({ queries: [{ type: 'pdq', hash: HASH }] }) });
        return { ...attempt, body: JSON.stringify({ queries: [{ type: 'pdq', hash: HASH, maxDistance: 64 }] }) };
      },
    ],
    ['a body on a signed empty-body request', 'ERR_BODY_DIGEST', async () => ({ ...(await signed(alice.key, { method: 'POST', target: '/v1/match' })), body: '{"queries":[]}' })],
  ];
  it.each(cases)('%s → %s', async (_name, code, build) => {
    const answer = await send(await build());
    expect(answer.body.code).toBe(code);
    expect(answer.status).toBe(401);
  });
});

describe('replay', () => {
  it('refuses a GET token used twice', async () => {
    const attempt = await signed(alice.key, {});
    expect((await send(attempt)).status).toBe(200);
    expect((await send(attempt)).body.code).toBe('ERR_REPLAY');
  });

  it('refuses a jti reused in a new token', async () => {
    const jti = randomBytes(16).toString('base64url');
    expect((await send(await signed(alice.key, {}, { jti }))).status).toBe(200);
    expect((await send(await signed(alice.key, {}, { jti }))).body.code).toBe('ERR_REPLAY');
    // jtis are per member: bob may use the same one.
    expect((await send(await signed(bob.key, {}, { jti }))).status).toBe(200);
  });

  it('refuses a replayed submit after a restart, and the replay changes nothing', async () => {
    const body = JSON.stringify({ signals: [{ type: 'pdq', hash: HASH, labels: ['suicide'], media: 'image', quality: 90 }] });
    const attempt = await signed(alice.key, { method: 'POST', target: '/v1/signals', body });
    expect((await send(attempt)).status).toBe(200);
    await alice.client.retract((await alice.client.findSignal('pdq', HASH))['id'] as string);
    await t.restart();
    const replay = await send(attempt);
    expect(replay).toMatchObject({ status: 401, body: { code: 'ERR_REPLAY' } });
    expect((await alice.client.findSignal('pdq', HASH))['status']).toBe('retracted');
  });
});

describe('refused with 403', () => {
  it('refuses a member without the role', async () => {
    const answer = await send(await signed(bob.key, { method: 'POST', target: '/v1/signals', body: JSON.stringify({ signals: [] }) }));
    expect(answer).toMatchObject({ status: 403, body: { code: 'ERR_FORBIDDEN' } });
    expect((await send(await signed(alice.key, { target: '/v1/admin/members' }))).body.code).toBe('ERR_FORBIDDEN');
    expect((await send(await signed(carol.key, { target: `/v1/match?type=pdq&hash=${HASH}` }))).body.code).toBe('ERR_FORBIDDEN');
  });

  it('refuses a suspended member, and a revoked key, at once', async () => {
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
