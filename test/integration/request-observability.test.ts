/**
 * What the operator sees of requests: the log and the metrics (issue 4: "structured logs with a
 * request id; never log Authorization or bodies"; "/metrics: request rate and latency by route,
 * index size, matches, rejections by code"). Signed requests that succeed and that are refused,
 * with hashes in their query strings and bodies, go through the real service with its logger at
 * the lowest level. Each answer's `X-Request-Id` names exactly one access-log line that agrees
 * with the answer; no line, at any level, holds a token, a hash, a query string or anything of a
 * body. The metrics moved by exactly what was sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { signRequest } from '../../src/client/sign-request.js';
import { readMetrics } from '../support/metrics.js';
import { startTestService, type TestMember, type TestService } from '../support/test-service.js';

const STORED = 'd8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22';
const QUERIED = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';
const SUBMITTED = '3f1c9e0b7a2d4c6e8f0a1b3c5d7e9f1a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e';
const REFUSED = '9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b';
const REF = 'case-4711-internal-ref';
const BODY_TEXT = 'not json, but a secret body';

interface Sent {
  readonly status: number;
  readonly body: unknown;
  readonly requestId: string | null;
  readonly authorization: string;
}

describe('the request log and metrics', () => {
  let bank: TestService;
  let member: TestMember;
  const lines: string[] = [];
  const sent: Sent[] = [];
  let metricsBefore: Map<string, number>;
  let metricsAfter: Map<string, number>;

  /** Sends a request signed by `member` (its token kept, to look for it in the log). */
  async function send(method: string, target: string, body?: string, tamper = false): Promise<Sent> {
    const bytes = body === undefined ? undefined : new TextEncoder().encode(body);
    let authorization = await signRequest(member.key, { method, target, ...(bytes && { body: bytes }) }, { now: bank.now });
    if (tamper) authorization = `${authorization.slice(0, -4)}AAAA`;
    const answer = await fetch(`${bank.service.url}${target}`, {
      method,
      headers: { authorization, ...(bytes && { 'content-type': 'application/json' }) },
      ...(bytes && { body: bytes }),
    });
    const text = await answer.text();
    const result = { status: answer.status, body: text.length > 0 ? (JSON.parse(text) as unknown) : undefined, requestId: answer.headers.get('x-request-id'), authorization };
    sent.push(result);
    return result;
  }

  beforeAll(async () => {
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter((line) => line.length > 0));
        done();
      },
    });
    bank = await startTestService({}, { logger: pino({ level: 'trace' }, stream) });
    member = await bank.member('acme', ['submitter', 'matcher']);
    await member.client.submit([{ type: 'pdq', hash: STORED, labels: ['suicide'], media: 'image', quality: 95 }]);
    metricsBefore = await readMetrics(bank.service.url);
    lines.length = 0;

    await send('GET', `/v1/match?type=pdq&hash=${QUERIED}&maxDistance=31`);
    await send('GET', `/v1/match?type=pdq&hash=${STORED.toUpperCase()}`);
    await send('POST', '/v1/signals', JSON.stringify({ signals: [{ type: 'pdq', hash: SUBMITTED, labels: ['suicide'], media: 'image', quality: 90, ref: REF }] }));
    await send('POST', '/v1/match', JSON.stringify({ queries: [{ type: 'pdq', hash: QUERIED }, { type: 'pdq', hash: 'zz' }] }));
    await send('POST', '/v1/signals', JSON.stringify({ signals: [{ type: 'pdq', hash: REFUSED, labels: ['suicide'], media: 'image', quality: 90, ref: REF }] }), true);
    await send('POST', '/v1/signals', BODY_TEXT);
    await send('GET', `/v1/signals?type=pdq&hash=${REFUSED}`);
    await send('GET', `/v1/signals/not-an-id-${REF}`);
    const logged = lines.length;
    metricsAfter = await readMetrics(bank.service.url);
    lines.length = logged; // the /metrics request's own line is not one of the requests above
  });
  afterAll(async () => bank?.stop());

  it('answers what was sent as expected', () => {
    expect(sent.map((s) => s.status)).toEqual([200, 200, 200, 200, 401, 400, 404, 404]);
  });

  it('writes one access line per request, named by the answer’s X-Request-Id and agreeing with the answer', () => {
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const access = records.filter((record) => record['msg'] === 'request');
    expect(access).toHaveLength(sent.length);
    for (const request of sent) {
      expect(request.requestId).toMatch(/^[0-9a-f-]{36}$/);
      const mine = access.filter((record) => record['requestId'] === request.requestId);
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({ status: request.status });
    }
    // Routes are patterns, never the request target; a signed request names its member; a refusal its code.
    expect(access.map((record) => record['route'])).toEqual([
      '/v1/match',
      '/v1/match',
      '/v1/signals',
      '/v1/match',
      '/v1/signals',
      '/v1/signals',
      '/v1/signals',
      '/v1/signals/{id}',
    ]);
    expect(access.map((record) => record['member'])).toEqual(['acme', 'acme', 'acme', 'acme', undefined, 'acme', 'acme', 'acme']);
    expect(access.map((record) => record['code'])).toEqual([undefined, undefined, undefined, undefined, 'ERR_SIGNATURE_INVALID', 'ERR_BAD_JSON', 'ERR_NOT_FOUND', 'ERR_NOT_FOUND']);
  });

  it('counts requests by method, route and status, times them by route, and counts matches, submissions and rejections', () => {
    const moved = (key: string): number => (metricsAfter.get(key) ?? 0) - (metricsBefore.get(key) ?? 0);
    const requests = (method: string, route: string, status: number): number => moved(`signalbank_http_requests_total{method="${method}",route="${route}",status="${status}"}`);
    expect(requests('GET', '/v1/match', 200)).toBe(2);
    expect(requests('POST', '/v1/match', 200)).toBe(1);
    expect(requests('POST', '/v1/signals', 200)).toBe(1);
    expect(requests('POST', '/v1/signals', 401)).toBe(1);
    expect(requests('POST', '/v1/signals', 400)).toBe(1);
    expect(requests('GET', '/v1/signals', 404)).toBe(1);
    expect(requests('GET', '/v1/signals/{id}', 404)).toBe(1);
    expect(moved('signalbank_http_request_duration_seconds_count{method="GET",route="/v1/match"}')).toBe(2);
    expect(moved('signalbank_http_request_duration_seconds_count{method="POST",route="/v1/signals"}')).toBe(3);
    expect(moved('signalbank_http_request_duration_seconds_bucket{le="+Inf",method="POST",route="/v1/match"}')).toBe(1);

    // Every match answered, counted by type: the two GETs and the batch's one valid query.
    const [nearGet, exactGet, , batch] = sent.map((request) => request.body) as [{ matches: unknown[] }, { matches: unknown[] }, unknown, { results: { matches?: unknown[] }[] }];
    const answered = nearGet.matches.length + exactGet.matches.length + (batch.results[0]?.matches?.length ?? 0);
    expect(exactGet.matches).toHaveLength(1);
    expect(moved('signalbank_match_queries_total{type="pdq"}')).toBe(3);
    expect(moved('signalbank_matches_total{type="pdq"}')).toBe(answered);
    expect(moved('signalbank_submissions_total{result="created"}')).toBe(1);
    expect(metricsAfter.get('signalbank_index_size{type="pdq"}')).toBe(2);

    // Refused requests and refused items, by code: the forged token, the bad JSON, the two unknown signals and the bad query.
    expect(moved('signalbank_rejections_total{code="ERR_SIGNATURE_INVALID"}')).toBe(1);
    expect(moved('signalbank_rejections_total{code="ERR_BAD_JSON"}')).toBe(1);
    expect(moved('signalbank_rejections_total{code="ERR_NOT_FOUND"}')).toBe(2);
    expect(moved('signalbank_rejections_total{code="ERR_INVALID_HASH"}')).toBe(1);
  });

  it('never logs a token, a hash, a query string or anything of a body, at any level', () => {
    const log = lines.join('\n');
    expect(log.length).toBeGreaterThan(0);
    for (const request of sent) {
      const token = request.authorization.replace(/^\S+\s+/, '');
      expect(log).not.toContain(token);
      for (const part of token.split('.')) expect(log).not.toContain(part);
    }
    for (const secret of [QUERIED, STORED, SUBMITTED, REFUSED, REF, BODY_TEXT, BODY_TEXT.slice(0, 8), 'maxDistance', 'hash=', 'queries', 'quality']) {
      expect(log.toLowerCase()).not.toContain(secret.toLowerCase());
    }
  });
});
