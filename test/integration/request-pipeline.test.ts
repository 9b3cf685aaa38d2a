/**
 * The order in which the service checks a request decides what a refused request costs: a
 * replayed token must not spend its member's rate limit, and a refusal for something the token
 * does not sign (the media type, a body where none belongs) must leave the token usable for the
 * corrected request (SPEC §4: a rejected request changes nothing).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request as httpRequest } from 'node:http';
import { signRequest } from '../../src/client/sign-request.js';
import { startTestService, type TestMember, type TestService } from '../support/test-service.js';

const ORIG = 'd8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22';

describe('what a refused request costs', () => {
  let bank: TestService;
  let member: TestMember;

  beforeAll(async () => {
    bank = await startTestService({ rateLimitPerSecond: 1, rateLimitBurst: 3 });
    member = await bank.member('acme', ['submitter', 'matcher']);
  });
  afterAll(async () => bank?.stop());

  async function get(authorization: string, target = '/v1/taxonomy'): Promise<{ status: number; code?: string }> {
    const answer = await fetch(`${bank.service.url}${target}`, { headers: { authorization } });
    const body = (await answer.json()) as { code?: string };
    return { status: answer.status, ...(body.code !== undefined && { code: body.code }) };
  }

  it("refuses a replayed token before the rate limit charges its member", async () => {
    bank.now += 10_000; // a full bucket: 3 requests
    const token = await signRequest(member.key, { method: 'GET', target: '/v1/taxonomy' }, { now: bank.now });
    expect(await get(token)).toEqual({ status: 200 });
    for (let i = 0; i < 6; i++) expect(await get(token)).toEqual({ status: 401, code: 'ERR_REPLAY' });
    const fresh = async () => get(await signRequest(member.key, { method: 'GET', target: '/v1/taxonomy' }, { now: bank.now }));
    // Two tokens are left in the bucket despite six replays; the limit still holds after them.
    expect(await fresh()).toEqual({ status: 200 });
    expect(await fresh()).toEqual({ status: 200 });
    expect(await fresh()).toEqual({ status: 429, code: 'ERR_RATE_LIMITED' });
  });

  it('leaves the token of a request refused for its media type usable for the corrected request', async () => {
    bank.now += 10_000;
    const body = new TextEncoder().encode(JSON.stringify({ queries: [{ type: 'pdq', hash: ORIG }] }));
    const authorization = await signRequest(member.key, { method: 'POST', target: '/v1/match', body }, { now: bank.now });
    const post = (contentType: string) => fetch(`${bank.service.url}/v1/match`, { method: 'POST', headers: { 'content-type': contentType, authorization }, body });
    const refused = await post('text/plain');
    expect([refused.status, ((await refused.json()) as { code: string }).code]).toEqual([415, 'ERR_UNSUPPORTED_MEDIA_TYPE']);
    const corrected = await post('application/json');
    expect(corrected.status).toBe(200);
    expect(((await corrected.json()) as { results: unknown[] }).results).toHaveLength(1);
  });

  it('refuses a chunked body on a route that takes none with ERR_VALIDATION, leaving the token usable', async () => {
    bank.now += 10_000;
    const authorization = await signRequest(member.key, { method: 'GET', target: '/v1/taxonomy' }, { now: bank.now });
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const url = new URL('/v1/taxonomy', bank.service.url);
      const req = httpRequest(url, { method: 'GET', headers: { authorization, 'transfer-encoding': 'chunked' } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (part: string) => (text += part));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.end('{"unexpected":true}');
    });
    expect(chunked.status).toBe(400);
    expect(JSON.parse(chunked.body)).toMatchObject({ code: 'ERR_VALIDATION', detail: 'GET /v1/taxonomy takes no body' });
    expect(await get(authorization)).toEqual({ status: 200 });
  });
});
