/**
 * The HTTP API against the real server (real SQLite file, real signed requests): the happy path
 * of every route, every error code a member can meet, privacy between members, and that a
 * refused request or item changes nothing. Answers are checked against the response schemas the
 * OpenAPI document is generated from.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  KeySchema,
  MatchAnswerSchema,
  MemberSchema,
  ProblemSchema,
  SignalSchema,
  SingleMatchAnswerSchema,
  SubmitAnswerSchema,
  TaxonomySchema,
} from '../../src/api/schemas.js';
import { generateMemberKeyPair } from '../../src/auth/member-keys.js';
import { signRequest } from '../../src/client/sign-request.js';
import { hammingDistanceHex } from '../../src/signals/hex.js';
import type { SubmitItem } from '../../src/client/signalbank-client.js';
import { startTestService, type TestMember, type TestService } from '../support/test-service.js';
import { codeOf } from '../support/error-code.js';
import { problemOf } from '../support/problem-answer.js';

// Real PDQ hashes from the reference vectors (bridge-mods: the original and two edits).
const ORIG = 'd8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22';
const BLUR = 'd8f8f0cce0f4e84f0637022a028f67f0b36e2ed596623e1d33e6b39c4e9c9b22';
const CONTRAST = 'd8f8f0cce0f4e84d06370a32068f67f0b36e2ed596623e1d33e6339c4e9c9b22';
const FAR = '2707f0331f0b57b0f1c8f5ddfd70980f4c91d12a699dc1e2cc194c63b16364dd';
const MD5 = '9e107d9d372bb6826bd81d3542a419d6';

const pdq = (hash: string, overrides: Partial<SubmitItem> = {}): SubmitItem => ({ type: 'pdq', hash, labels: ['suicide'], media: 'image', quality: 95, ...overrides });
const parse = <T>(schema: z.ZodType<T>, value: unknown): T => schema.parse(value);

let t: TestService;
let alice: TestMember;
let bob: TestMember;
let matcher: TestMember;

const auditCount = async () => (await t.service.store.listAuditEntries({ after: 0, limit: 1_000_000 })).length;

beforeAll(async () => {
  t = await startTestService();
  alice = await t.member('alice', ['submitter', 'matcher']);
  bob = await t.member('bob', ['submitter', 'matcher']);
  matcher = await t.member('matcher-co', ['matcher']);
});
afterAll(async () => t?.stop());

describe('service routes', () => {
  it('answers health, readiness, metrics, the OpenAPI document and the docs page without a signature', async () => {
    expect(await (await fetch(`${t.service.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${t.service.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ok', checks: { database: true, submissions: true, migrations: true, index: true, accepting: true } });
    const metrics = await (await fetch(`${t.service.url}/metrics`)).text();
    expect(metrics).toContain('signalbank_http_requests_total');
    expect(metrics).toMatch(/signalbank_index_size\{type="pdq"\} \d+/);
    const doc = (await (await fetch(`${t.service.url}/openapi.json`)).json()) as { openapi: string; paths: Record<string, Record<string, { 'x-roles': unknown }>>; components: { schemas: Record<string, unknown> } };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/signals', '/v1/signals/{id}', '/v1/signals/{id}/submission', '/v1/signals/{id}/opinions', '/v1/match', '/v1/taxonomy', '/v1/admin/members/{id}/keys/{kid}']));
    expect(doc.paths['/v1/signals']?.['post']?.['x-roles']).toEqual(['submitter']);
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['Signal', 'Match', 'Problem', 'SubmissionItem']));
    const docs = await fetch(`${t.service.url}/docs`);
    expect(docs.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await docs.text();
    expect(html).toContain('id="ERR_REPLAY"');
    expect(html).toContain('/v1/signals/{id}/opinions');
  });

  it('answers unknown routes with 404 and wrong methods with 405, as problem JSON', async () => {
    expect(await problemOf(await fetch(`${t.service.url}/v1/nothing`))).toEqual({ status: 404, code: 'ERR_NOT_FOUND' });
    const wrong = await fetch(`${t.service.url}/v1/taxonomy`, { method: 'PUT' });
    expect(wrong.headers.get('allow')).toBe('GET');
    expect(await problemOf(wrong)).toEqual({ status: 405, code: 'ERR_METHOD_NOT_ALLOWED' });
  });

  it('answers refused signatures (401) and missing roles (403) as problem JSON', async () => {
    expect(await problemOf(await fetch(`${t.service.url}/v1/taxonomy`))).toEqual({ status: 401, code: 'ERR_AUTH_MISSING' });
    expect(await problemOf(await t.clientFor({ ...alice.key, kid: 'no-such-kid' }).send('GET', '/v1/taxonomy'))).toEqual({ status: 401, code: 'ERR_KEY_UNKNOWN' });
    expect(await problemOf(await matcher.client.send('POST', '/v1/signals', { signals: [pdq(FAR)] }))).toEqual({ status: 403, code: 'ERR_FORBIDDEN' });
    expect(await codeOf(matcher.client.submit([pdq(FAR)]))).toBe('ERR_FORBIDDEN');
  });

  it('serves the taxonomy to any member', async () => {
    const taxonomy = parse(TaxonomySchema, await matcher.client.taxonomy());
    expect(taxonomy.labels.filter((l) => l.kind === 'category').map((l) => l.name)).toEqual(['self_harm', 'suicide']);
  });
});

describe('submit', () => {
  it('answers one result per item: created, added, updated, unchanged', async () => {
    const first = parse(SubmitAnswerSchema, await alice.client.submit([pdq(ORIG), { type: 'md5', hash: MD5.toUpperCase(), labels: ['self_harm'], media: 'video' }]));
    expect(first.results.map((r) => r.status)).toEqual(['created', 'created']);
    const again = await alice.client.submit([pdq(ORIG), pdq(ORIG, { labels: ['suicide', 'graphic'] })]);
    expect(again.results.map((r) => r.status)).toEqual(['unchanged', 'updated']);
    const other = await bob.client.submit([pdq(ORIG.toUpperCase(), { labels: ['self_harm'] })]);
    expect(other.results[0]).toEqual({ status: 'added', id: first.results[0]?.id });
    const signal = parse(SignalSchema, await bob.client.getSignal(first.results[0]!.id!));
    expect(signal).toMatchObject({ hash: ORIG, labels: ['graphic', 'self_harm', 'suicide'], submitters: 2, status: 'active' });
  });

  it('rejects bad items on their own with a stable code, and commits the rest', async () => {
    const before = await auditCount();
    const answer = await alice.client.submit([
      pdq(BLUR),
      { type: 'phash', hash: ORIG, labels: ['suicide'], media: 'image' },
      pdq(ORIG.slice(1)),
      pdq('0'.repeat(64)),
      pdq(CONTRAST, { quality: 49 }),
      pdq(CONTRAST, { labels: ['graphic'] }),
      pdq(CONTRAST, { labels: ['suicide', 'cats'] }),
      { type: 'pdq', hash: CONTRAST, labels: ['suicide'], media: 'image' },
      { type: 'md5', hash: MD5, labels: ['suicide'], media: 'image', quality: 90 },
      pdq(CONTRAST, { media: 'audio' as 'image' }),
      pdq(CONTRAST, { ref: 'x'.repeat(129) }),
      { ...pdq(CONTRAST), extra: true } as SubmitItem,
    ]);
    expect(answer.results.map((r) => r.status === 'rejected' ? r.error?.code : r.status)).toEqual([
      'created',
      'ERR_UNKNOWN_TYPE',
      'ERR_INVALID_HASH',
      'ERR_DEGENERATE_HASH',
      'ERR_LOW_QUALITY',
      'ERR_INVALID_LABEL',
      'ERR_INVALID_LABEL',
      'ERR_VALIDATION',
      'ERR_VALIDATION',
      'ERR_VALIDATION',
      'ERR_VALIDATION',
      'ERR_VALIDATION',
    ]);
    expect(answer.results[9]?.error?.message).toContain('/signals/9/media');
    expect(await auditCount()).toBe(before + 1);
    expect(await codeOf(alice.client.findSignal('pdq', CONTRAST))).toBe('ERR_NOT_FOUND');
  });

  it('fails the whole request only for a bad envelope', async () => {
    const before = await auditCount();
    const bad = async (body: unknown) => {
      const { status, code } = await problemOf(await alice.client.send('POST', '/v1/signals', body));
      return [status, code];
    };
    expect(await bad([pdq(FAR)])).toEqual([400, 'ERR_VALIDATION']);
    expect(await bad({ items: [pdq(FAR)] })).toEqual([400, 'ERR_VALIDATION']);
    expect(await bad({ signals: pdq(FAR) })).toEqual([400, 'ERR_VALIDATION']);
    expect(await bad({ signals: Array.from({ length: 10_001 }, () => pdq(FAR)) })).toEqual([400, 'ERR_VALIDATION']);
    expect(await bad(new TextEncoder().encode('{"signals": [')) ).toEqual([400, 'ERR_BAD_JSON']);
    expect(await bad(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))).toEqual([400, 'ERR_BAD_JSON']);
    const answer = await alice.client.send('POST', '/v1/signals', { signals: 'nope' });
    expect(parse(ProblemSchema, answer.body).errors?.[0]?.path).toBe('/signals');
    expect(await auditCount()).toBe(before);
    expect(await codeOf(alice.client.findSignal('pdq', FAR))).toBe('ERR_NOT_FOUND');
  });

  it('accepts a full batch of 10,000 items', async () => {
    const items = Array.from({ length: 10_000 }, (_, i) => ({ type: 'sha256', hash: i.toString(16).padStart(64, '0'), labels: ['suicide'], media: 'image' as const }));
    const answer = await alice.client.submit(items);
    expect(answer.results).toHaveLength(10_000);
    expect(answer.results.every((r) => r.status === 'created')).toBe(true);
  });
});

describe('reading signals', () => {
  it('reads by id and by type and hash, with the caller’s own part only', async () => {
    const [created] = (await alice.client.submit([pdq(FAR, { ref: 'alice-case-4411' })])).results;
    const mine = parse(SignalSchema, await alice.client.findSignal('pdq', FAR.toUpperCase()));
    expect(mine.id).toBe(created?.id);
    expect(mine.mine?.submission).toMatchObject({ status: 'active', ref: 'alice-case-4411', quality: 95 });
    const theirs = parse(SignalSchema, await matcher.client.getSignal(created!.id!));
    expect(theirs.mine).toBeUndefined();
    expect(await codeOf(matcher.client.getSignal('no-such-id'))).toBe('ERR_NOT_FOUND');
    expect(await codeOf(matcher.client.findSignal('pdq', 'zz'))).toBe('ERR_INVALID_HASH');
    expect(await codeOf(matcher.client.request('GET', '/v1/signals?type=pdq'))).toBe('ERR_VALIDATION');
  });

  it('never tells a member who else submitted a signal', async () => {
    const [created] = (await alice.client.submit([pdq(CONTRAST, { ref: 'alice-secret-ref' })])).results;
    await bob.client.submit([pdq(CONTRAST, { ref: 'bob-secret-ref' })]);
    const answers = [
      await matcher.client.send('GET', `/v1/signals/${created!.id!}`),
      await bob.client.send('GET', `/v1/signals/${created!.id!}`),
      await matcher.client.send('POST', '/v1/match', { queries: [{ type: 'pdq', hash: CONTRAST }] }),
      await bob.client.send('GET', `/v1/match?type=pdq&hash=${CONTRAST}`),
    ];
    for (const answer of answers) {
      const text = JSON.stringify(answer.body);
      expect(text).not.toMatch(/alice/);
      if (!text.includes('bob-secret-ref')) expect(text).not.toMatch(/bob/);
      expect(text).not.toContain('alice-secret-ref');
    }
    expect(JSON.stringify(answers[0]?.body)).not.toContain('bob-secret-ref');
    expect((answers[0]?.body as { submitters: number }).submitters).toBe(2);
  });
});

describe('match', () => {
  let near: TestService;
  let sub: TestMember;
  let look: TestMember;
  beforeAll(async () => {
    near = await startTestService();
    sub = await near.member('sub', ['submitter']);
    look = await near.member('look', ['matcher']);
    await sub.client.submit([pdq(ORIG), pdq(BLUR), pdq(CONTRAST), pdq(FAR), { type: 'md5', hash: MD5, labels: ['suicide'], media: 'image' }]);
  });
  afterAll(async () => near?.stop());

  it('answers every signal within the radius, nearest first, exactly', async () => {
    const answer = parse(SingleMatchAnswerSchema, await look.client.matchOne({ type: 'pdq', hash: ORIG }));
    expect(answer.matches.map((m) => [m.hash, m.distance])).toEqual([
      [ORIG, 0],
      [BLUR, hammingDistanceHex(ORIG, BLUR)],
      [CONTRAST, hammingDistanceHex(ORIG, CONTRAST)],
    ]);
    expect(hammingDistanceHex(ORIG, BLUR)).toBeLessThan(hammingDistanceHex(ORIG, CONTRAST));
    expect(answer.matches[0]).toMatchObject({ labels: ['suicide'], submitters: 1, status: 'active', opinions: { confirm: 0, falsePositive: 0, disputeLabels: 0 } });
    expect((await look.client.matchOne({ type: 'pdq', hash: ORIG, maxDistance: hammingDistanceHex(ORIG, BLUR) })).matches).toHaveLength(2);
    expect((await look.client.matchOne({ type: 'pdq', hash: ORIG, limit: 1 })).matches.map((m) => m.hash)).toEqual([ORIG]);
    expect((await look.client.matchOne({ type: 'pdq', hash: ORIG, maxDistance: 64 })).matches).toHaveLength(3);
    expect((await look.client.matchOne({ type: 'md5', hash: MD5.toUpperCase() })).matches.map((m) => m.distance)).toEqual([0]);
  });

  it('answers single matches sent at once, with mixed options and a bad one among them, each as if alone', async () => {
    const queries = [
      { type: 'pdq' as const, hash: ORIG },
      { type: 'pdq' as const, hash: BLUR, limit: 1 },
      { type: 'pdq' as const, hash: ORIG, maxDistance: hammingDistanceHex(ORIG, BLUR) },
      { type: 'md5' as const, hash: MD5 },
      { type: 'pdq' as const, hash: 'abc' },
      { type: 'pdq' as const, hash: FAR, maxDistance: 0 },
      { type: 'pdq' as const, hash: CONTRAST, includeDisputed: true },
    ];
    const outcome = (query: (typeof queries)[number]) =>
      look.client.matchOne(query).then(
        (answer) => answer.matches.map((m) => [m.hash, m.distance]),
        (error: unknown) => (error as { code?: string }).code,
      );
    const alone: unknown[] = [];
    for (const query of queries) alone.push(await outcome(query));
    const together = await Promise.all([...queries, ...queries].map(outcome));
    expect(together).toEqual([...alone, ...alone]);
    expect(alone[4]).toBe('ERR_INVALID_HASH');
    expect(alone[1]).toHaveLength(1);
  });

  it('answers a batch, a bad query in its place', async () => {
    const answer = parse(
      MatchAnswerSchema,
      await look.client.match([
        { type: 'pdq', hash: BLUR, maxDistance: 0 },
        { type: 'pdq', hash: '0'.repeat(64) },
        { type: 'md5', hash: MD5, maxDistance: 3 },
        { type: 'blockhash', hash: ORIG },
        { type: 'sha1', hash: MD5 },
        { type: 'pdq', hash: ORIG, maxDistance: 65 },
      ]),
    );
    expect(answer.results.map((r) => ('error' in r ? r.error.code : r.matches.length))).toEqual([1, 'ERR_DEGENERATE_HASH', 'ERR_INVALID_DISTANCE', 0, 'ERR_UNKNOWN_TYPE', 'ERR_INVALID_DISTANCE']);
  });

  it('answers a bad single query with 400', async () => {
    expect(await codeOf(look.client.matchOne({ type: 'pdq', hash: 'abc' }))).toBe('ERR_INVALID_HASH');
    expect(await codeOf(look.client.matchOne({ type: 'md5', hash: MD5, maxDistance: 1 }))).toBe('ERR_INVALID_DISTANCE');
    expect(await codeOf(look.client.request('GET', `/v1/match?type=pdq&hash=${ORIG}&maxDistance=abc`))).toBe('ERR_VALIDATION');
    expect(await codeOf(look.client.request('GET', `/v1/match?type=pdq&hash=${ORIG}&maxDistance=1e2`))).toBe('ERR_VALIDATION');
    expect(await codeOf(look.client.request('GET', `/v1/match?type=pdq&hash=${ORIG}&limit=101`))).toBe('ERR_VALIDATION');
    expect(await codeOf(look.client.request('GET', `/v1/match?type=pdq&hash=${ORIG}&x=1`))).toBe('ERR_VALIDATION');
    expect(await codeOf(look.client.match(Array.from({ length: 1001 }, () => ({ type: 'pdq', hash: ORIG }))))).toBe('ERR_VALIDATION');
    expect(await codeOf(look.client.match([]))).toBe('ERR_VALIDATION');
  });

  it("leaves radii and hashes to the signal type's own check, on GET, POST and per item", async () => {
    const longHash = 'a'.repeat(300);
    for (const maxDistance of [65, 1.5, -1]) {
      expect(await codeOf(look.client.request('GET', `/v1/match?type=pdq&hash=${ORIG}&maxDistance=${maxDistance}`))).toBe('ERR_INVALID_DISTANCE');
      expect(await codeOf(look.client.matchOne({ type: 'pdq', hash: ORIG, maxDistance }))).toBe('ERR_INVALID_DISTANCE');
    }
    const batch = await look.client.match([
      { type: 'pdq', hash: ORIG, maxDistance: 1.5 },
      { type: 'md5', hash: MD5, maxDistance: 65 },
      { type: 'pdq', hash: longHash },
      { type: 'md5', hash: longHash.toUpperCase() },
      { type: 'pdq', hash: ORIG, maxDistance: '3' as unknown as number },
    ]);
    expect(batch.results.map((r) => ('error' in r ? r.error.code : 'matches'))).toEqual(['ERR_INVALID_DISTANCE', 'ERR_INVALID_DISTANCE', 'ERR_INVALID_HASH', 'ERR_INVALID_HASH', 'ERR_VALIDATION']);
    expect(await codeOf(look.client.request('GET', `/v1/match?type=pdq&hash=${longHash}`))).toBe('ERR_INVALID_HASH');
    expect(await codeOf(look.client.request('GET', `/v1/signals?type=md5&hash=${longHash}`))).toBe('ERR_INVALID_HASH');
    const submitted = await sub.client.submit([pdq(longHash)]);
    expect(submitted.results[0]?.error?.code).toBe('ERR_INVALID_HASH');
    expect(submitted.results[0]?.error?.message).toContain('300 characters');
  });

  it('matches a new hash at once and a retracted one never', async () => {
    const hash = 'a5f0a457bf5ee4b3a2a4b9a27e6ac3fdb1d26b59cbc1be0c59a1d4ea67e3d845';
    expect((await look.client.matchOne({ type: 'pdq', hash })).matches).toHaveLength(0);
    const [created] = (await sub.client.submit([pdq(hash)])).results;
    expect((await look.client.matchOne({ type: 'pdq', hash })).matches.map((m) => m.id)).toEqual([created?.id]);
    const retracted = parse(SignalSchema, await sub.client.retract(created!.id!));
    expect(retracted).toMatchObject({ status: 'retracted', submitters: 0, mine: { submission: { status: 'retracted' } } });
    expect((await look.client.matchOne({ type: 'pdq', hash, maxDistance: 64 })).matches.map((m) => m.id)).not.toContain(created?.id);
    expect(await codeOf(sub.client.retract(created!.id!))).toBe('ERR_NOT_FOUND');
    await sub.client.submit([pdq(hash)]);
    expect((await look.client.matchOne({ type: 'pdq', hash })).matches.map((m) => m.id)).toEqual([created?.id]);
  });

  it('keeps disputed signals out unless asked, and counts opinions', async () => {
    const id = (await look.client.matchOne({ type: 'pdq', hash: FAR })).matches[0]!.id;
    const disputed = parse(SignalSchema, await look.client.setOpinion(id, { verdict: 'false_positive', reason: 'a landscape' }));
    expect(disputed).toMatchObject({ status: 'disputed', opinions: { falsePositive: 1 }, mine: { opinion: { verdict: 'false_positive' } } });
    expect((await look.client.matchOne({ type: 'pdq', hash: FAR })).matches).toHaveLength(0);
    const included = await look.client.matchOne({ type: 'pdq', hash: FAR, includeDisputed: true });
    expect(included.matches.map((m) => [m.id, m.status])).toEqual([[id, 'disputed']]);
    expect((await look.client.match([{ type: 'pdq', hash: FAR }], { includeDisputed: true })).results[0]).toMatchObject({ matches: [{ id }] });
    await look.client.setOpinion(id, { verdict: 'confirm' });
    expect((await look.client.matchOne({ type: 'pdq', hash: FAR })).matches.map((m) => m.status)).toEqual(['active']);
  });

  it('validates opinions', async () => {
    const id = (await look.client.matchOne({ type: 'pdq', hash: ORIG })).matches[0]!.id;
    expect(await codeOf(look.client.setOpinion(id, { verdict: 'dispute_labels', labels: ['self_harm'] }))).toBe('ERR_VALIDATION');
    expect(await codeOf(look.client.setOpinion(id, { verdict: 'dispute_labels', labels: ['dogs'], reason: 'x' }))).toBe('ERR_INVALID_LABEL');
    expect(await codeOf(look.client.setOpinion(id, { verdict: 'confirm', labels: ['suicide'] }))).toBe('ERR_VALIDATION');
    expect(await codeOf(look.client.setOpinion(id, { verdict: 'meh' }))).toBe('ERR_VALIDATION');
    expect(await codeOf(look.client.setOpinion('missing', { verdict: 'confirm' }))).toBe('ERR_NOT_FOUND');
    const relabelled = await look.client.setOpinion(id, { verdict: 'dispute_labels', labels: ['self_harm'], reason: 'self-harm, not suicide' });
    expect(relabelled).toMatchObject({ opinions: { disputeLabels: 1 }, status: 'active' });
  });

  it('refuses an opinion from a member that submitted the signal', async () => {
    const both = await near.member('both', ['submitter', 'matcher']);
    const [created] = (await both.client.submit([pdq(CONTRAST)])).results;
    expect(await codeOf(both.client.setOpinion(created!.id!, { verdict: 'false_positive' }))).toBe('ERR_CONFLICT');
  });
});

describe('admin', () => {
  it('creates, lists, reads and updates members', async () => {
    const created = parse(MemberSchema, await t.admin.client.request('POST', '/v1/admin/members', { id: 'newco', name: 'New Co', roles: ['matcher'] }));
    expect(created).toMatchObject({ id: 'newco', roles: ['matcher'], status: 'active' });
    const list = await t.admin.client.request<{ members: { id: string }[] }>('GET', '/v1/admin/members');
    expect(list.members.map((m) => m.id)).toContain('newco');
    const updated = await t.admin.client.request('PATCH', '/v1/admin/members/newco', { roles: ['matcher', 'sync'], name: 'NewCo Ltd' });
    expect(parse(MemberSchema, updated)).toMatchObject({ roles: ['matcher', 'sync'], name: 'NewCo Ltd' });
    expect(await codeOf(t.admin.client.request('POST', '/v1/admin/members', { id: 'newco', name: 'again', roles: [] }))).toBe('ERR_CONFLICT');
    expect(await codeOf(t.admin.client.request('POST', '/v1/admin/members', { id: 'Bad_Id', name: 'x', roles: [] }))).toBe('ERR_VALIDATION');
    expect(await codeOf(t.admin.client.request('POST', '/v1/admin/members', { id: 'okid', name: 'x', roles: ['root'] }))).toBe('ERR_VALIDATION');
    expect(await codeOf(t.admin.client.request('PATCH', '/v1/admin/members/newco', {}))).toBe('ERR_VALIDATION');
    expect(await codeOf(t.admin.client.request('PATCH', '/v1/admin/members/ghost', { name: 'x' }))).toBe('ERR_NOT_FOUND');
    expect(await codeOf(t.admin.client.request('GET', '/v1/admin/members/ghost'))).toBe('ERR_NOT_FOUND');
  });

  it('registers and revokes keys, refusing private and unsupported keys', async () => {
    await t.admin.client.request('POST', '/v1/admin/members', { id: 'keyco', name: 'Key Co', roles: ['matcher'] });
    const ec = await generateMemberKeyPair('ES256');
    const key = parse(KeySchema, await t.admin.client.request('POST', '/v1/admin/members/keyco/keys', { jwk: { ...ec.publicJwk, kid: 'keyco-2026' } }));
    expect(key).toMatchObject({ kid: 'keyco-2026', alg: 'ES256', status: 'active', revokedAt: null });
    expect(key.jwk).not.toHaveProperty('d');
    expect(await codeOf(t.admin.client.request('POST', '/v1/admin/members/keyco/keys', { jwk: ec.privateJwk }))).toBe('ERR_VALIDATION');
    expect(await codeOf(t.admin.client.request('POST', '/v1/admin/members/keyco/keys', { jwk: ec.publicJwk }))).toBe('ERR_CONFLICT');
    expect(await codeOf(t.admin.client.request('POST', '/v1/admin/members/keyco/keys', { jwk: { kty: 'RSA', n: 'x', e: 'AQAB' } }))).toBe('ERR_VALIDATION');
    expect(await codeOf(t.admin.client.request('POST', '/v1/admin/members/keyco/keys', { jwk: { kty: 'OKP', crv: 'Ed25519', x: 'short' } }))).toBe('ERR_VALIDATION');
    expect(await codeOf(t.admin.client.request('POST', '/v1/admin/members/ghost/keys', { jwk: (await generateMemberKeyPair()).publicJwk }))).toBe('ERR_NOT_FOUND');
    const keys = await t.admin.client.request<{ keys: unknown[] }>('GET', '/v1/admin/members/keyco/keys');
    expect(keys.keys).toHaveLength(1);
    const revoked = parse(KeySchema, await t.admin.client.request('DELETE', '/v1/admin/members/keyco/keys/keyco-2026'));
    expect(revoked.status).toBe('revoked');
    expect(await codeOf(t.admin.client.request('DELETE', '/v1/admin/members/alice/keys/keyco-2026'))).toBe('ERR_NOT_FOUND');
  });

  it('refuses to lock the operators out', async () => {
    const before = await auditCount();
    expect(await codeOf(t.admin.client.request('PATCH', '/v1/admin/members/admin', { status: 'suspended' }))).toBe('ERR_CONFLICT');
    expect(await codeOf(t.admin.client.request('DELETE', `/v1/admin/members/admin/keys/${t.admin.key.kid}`))).toBe('ERR_CONFLICT');
    expect(await auditCount()).toBe(before);
  });

  it('extends the taxonomy', async () => {
    const label = await t.admin.client.request('POST', '/v1/admin/taxonomy', { name: 'eating_disorder', kind: 'category', description: 'Promotes disordered eating.' });
    expect(label).toEqual({ name: 'eating_disorder', kind: 'category', description: 'Promotes disordered eating.' });
    const answer = await alice.client.submit([pdq('c8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b23', { labels: ['eating_disorder'] })]);
    expect(answer.results[0]?.status).toBe('created');
    expect(await codeOf(t.admin.client.request('POST', '/v1/admin/taxonomy', { name: 'suicide', kind: 'category', description: 'x' }))).toBe('ERR_CONFLICT');
  });
});

describe('the default body limit (SPEC §4: 16 MiB of JSON)', () => {
  const MIB16 = 16 * 1024 * 1024;
  /** A valid match body padded with spaces to exactly `bytes` bytes. */
  const paddedMatch = (bytes: number): Uint8Array => {
    const json = JSON.stringify({ queries: [{ type: 'pdq', hash: ORIG }] });
    return new TextEncoder().encode(json.slice(0, -1) + ' '.repeat(bytes - json.length) + '}');
  };

  it('takes a body of exactly 16 MiB and refuses one byte more with 413, changing nothing', async () => {
    const atLimit = paddedMatch(MIB16);
    expect(atLimit.length).toBe(MIB16);
    const taken = await matcher.client.send('POST', '/v1/match', atLimit);
    expect(taken.status).toBe(200);
    expect((taken.body as { results: { matches: unknown[] }[] }).results).toHaveLength(1);
    const before = await auditCount();
    const over = await matcher.client.send('POST', '/v1/match', paddedMatch(MIB16 + 1));
    expect(await problemOf(over)).toEqual({ status: 413, code: 'ERR_TOO_LARGE' });
    expect(await auditCount()).toBe(before);
  });
});

describe('limits', () => {
  let small: TestService;
  let member: TestMember;
  beforeAll(async () => {
    small = await startTestService({ jsonBodyLimitBytes: 4096, rateLimitPerSecond: 1, rateLimitBurst: 3 });
    member = await small.member('limited', ['submitter', 'matcher']);
  });
  afterAll(async () => small?.stop());

  it('refuses a body over the limit with 413, wrong media types with 415, and rate-limits per member', async () => {
    const big = await member.client.send('POST', '/v1/match', { queries: Array.from({ length: 100 }, () => ({ type: 'pdq', hash: ORIG })) });
    expect(await problemOf(big)).toEqual({ status: 413, code: 'ERR_TOO_LARGE' });
    small.now += 10_000;
    const body = new TextEncoder().encode('{"queries":[]}');
    const authorization = await signRequest(member.key, { method: 'POST', target: '/v1/match', body }, { now: small.now });
    const text = await fetch(`${small.service.url}/v1/match`, { method: 'POST', headers: { 'content-type': 'text/plain', authorization }, body });
    expect(await problemOf(text)).toEqual({ status: 415, code: 'ERR_UNSUPPORTED_MEDIA_TYPE' });
    small.now += 10_000;
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await member.client.send('GET', '/v1/taxonomy'));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429]);
    expect(answers[3]?.headers.get('retry-after')).toBe('1');
    expect(await problemOf(answers[3]!)).toEqual({ status: 429, code: 'ERR_RATE_LIMITED' });
    small.now += 2000;
    expect((await member.client.send('GET', '/v1/taxonomy')).status).toBe(200);
  });
});
