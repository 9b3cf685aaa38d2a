/**
 * Hostile input against every route of the OpenAPI document, with fast-check: random JSON,
 * mutated valid bodies (wrong types, huge numbers and strings, deep nesting, `__proto__` and
 * `constructor` keys, unknown keys), raw bytes (invalid UTF-8, truncated JSON), odd content types,
 * fuzzed path parameters and query strings — all signed properly by a member holding every role,
 * so they reach validation. The properties: never a 5xx, every refusal is problem JSON with an
 * `ERR_*` code and its status, and a refused request changes nothing (signal log, signals,
 * submissions, opinions, members, keys and labels counted before and after).
 * Raw sockets then send headers and bodies over the limits, garbage, and slow clients that
 * dribble headers or body. Batch job uploads (`POST /v1/jobs`, NDJSON) get their own property:
 * random, mutated, blank, non-UTF-8, over-long and `__proto__` lines are each an error line of a
 * job that still ends `done`, one result line per input line in order; a body of another media
 * type is refused with problem JSON and keeps nothing. FUZZ_RUNS (default 150 per property; the
 * NDJSON property runs a third of it) sets the size (`npm run stress` runs more).
 */
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobResultLineSchema, JobSchema } from '../../src/api/job-schemas.js';
import { signRequest } from '../../src/client/sign-request.js';
import { startTestService, type TestMember, type TestService } from '../support/test-service.js';
import { readMetrics } from '../support/metrics.js';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 150);
const SEED = Number(process.env['FUZZ_SEED'] ?? 4242);
const BODY_LIMIT = 256 * 1024;
const HEADERS_TIMEOUT_MS = 1000;
const REQUEST_TIMEOUT_MS = 2000;
const NDJSON_BODY_LIMIT = 4 * 1024 * 1024;
const JOB_LINE_LIMIT = 1024;
const NDJSON = 'application/x-ndjson';
const HASH = 'd8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22';

interface Operation {
  readonly method: string;
  readonly path: string;
  readonly signed: boolean;
  readonly hasBody: boolean;
  /** The body is NDJSON (a batch job), not JSON. */
  readonly ndjson: boolean;
}

let t: TestService;
let fuzzer: TestMember;
let target: TestMember;
let signalId: string;
let operations: Operation[];
let served = 0;
const statuses = new Map<number, number>();

beforeAll(async () => {
  t = await startTestService({
    jsonBodyLimitBytes: BODY_LIMIT,
    ndjsonBodyLimitBytes: NDJSON_BODY_LIMIT,
    jobMaxLineBytes: JOB_LINE_LIMIT,
    headersTimeoutMs: HEADERS_TIMEOUT_MS,
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
  });
  fuzzer = await t.member('fuzzer', ['submitter', 'matcher', 'sync', 'auditor', 'admin']);
  target = await t.member('fuzz-target', ['matcher']);
  // Another member's signal: the fuzzer may give opinions on it but never retract it.
  const owner = await t.member('owner', ['submitter']);
  signalId = (await owner.client.submit([{ type: 'pdq', hash: HASH, labels: ['suicide'], media: 'image', quality: 90 }])).results[0]!.id!;
  const document = (await (await fetch(`${t.service.url}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { security?: unknown[]; requestBody?: { content: Record<string, unknown> } }>>;
  };
  operations = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({
      method: method.toUpperCase(),
      path,
      signed: (operation.security ?? []).length > 0,
      hasBody: operation.requestBody !== undefined,
      ndjson: Object.keys(operation.requestBody?.content ?? {}).includes(NDJSON),
    })),
  );
});
afterAll(async () => {
  console.info(`fuzz: ${served} requests, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))} (seed ${SEED})`);
  console.info(`fuzz jobs: ${ndjsonFigures.jobs} jobs done, ${ndjsonFigures.lines} lines tried, ${ndjsonFigures.errorLines} error lines (${JSON.stringify(ndjsonFigures.codes)}), ${ndjsonFigures.refused} bodies of another media type refused`);
  await t?.stop();
});

/** A valid body for each route that takes one; a route added without an example fails the test. */
function exampleBody(operation: Operation): Record<string, unknown> {
  const key = `${operation.method} ${operation.path}`;
  const hash = randomBytes(32).toString('hex');
  const examples: Record<string, Record<string, unknown>> = {
    'POST /v1/signals': { signals: [{ type: 'pdq', hash, labels: ['suicide', 'graphic'], media: 'image', quality: 90, ref: 'r1' }, { type: 'md5', hash: hash.slice(0, 32), labels: ['self_harm'], media: 'video' }] },
    'POST /v1/match': { queries: [{ type: 'pdq', hash: HASH, maxDistance: 31 }, { type: 'sha256', hash }], limit: 5, includeDisputed: true },
    'POST /v1/signals/{id}/opinions': { verdict: 'dispute_labels', labels: ['self_harm'], reason: 'not this label' },
    'POST /v1/admin/members': { id: `m${hash.slice(0, 12)}`, name: 'A member', roles: ['matcher'] },
    'PATCH /v1/admin/members/{id}': { name: 'Renamed', roles: ['matcher'], status: 'active' },
    'POST /v1/admin/members/{id}/keys': { jwk: { kty: 'OKP', crv: 'Ed25519', x: randomBytes(32).toString('base64url') } },
    'POST /v1/admin/taxonomy': { name: `l${hash.slice(0, 10)}`, kind: 'modifier', description: 'A label' },
    // NDJSON: one query line (see `encodeBody`).
    'POST /v1/jobs': { type: 'pdq', hash: HASH, maxDistance: 31, ref: 'r1' },
  };
  const example = examples[key];
  if (!example) throw new Error(`No example body for ${key}: add one`);
  return structuredClone(example);
}

/** The bytes of a body: JSON, or for an NDJSON route the value as one line. */
function encodeBody(op: Operation, value: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(value)}${op.ndjson ? '\n' : ''}`);
}

/** Path parameters: an existing object, a missing one, or hostile text. */
function fillPath(path: string, value: string | undefined): string {
  return path
    .replace('{id}', encodeURIComponent(value ?? (path.startsWith('/v1/admin') ? 'fuzz-target' : signalId)))
    .replace('{kid}', encodeURIComponent(value ?? target.key.kid));
}

/** State that a refused request must not change. */
function stateCounts(): Record<string, number> {
  const count = (table: string) => t.service.store.db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
  return Object.fromEntries(['audit_entries', 'signals', 'submissions', 'opinions', 'members', 'member_keys', 'labels', 'jobs'].map((table) => [table, count(table)]));
}

interface Sent {
  readonly method: string;
  readonly target: string;
  readonly body?: Buffer | undefined;
  readonly contentType?: string | undefined;
  readonly signed: boolean;
}

/** Sends one request (signed over its exact bytes) and checks the properties. */
async function sendAndCheck(request: Sent): Promise<void> {
  const before = stateCounts();
  const headers: Record<string, string> = {};
  if (request.signed) headers['authorization'] = await signRequest(fuzzer.key, { method: request.method, target: request.target, body: request.body }, { now: t.now });
  if (request.contentType !== undefined) headers['content-type'] = request.contentType;
  const response = await fetch(`${t.service.url}${request.target}`, { method: request.method, headers, ...(request.body !== undefined && { body: request.body }) });
  const text = await response.text();
  served++;
  statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
  const where = `${request.method} ${request.target.slice(0, 200)} → ${response.status} ${text.slice(0, 300)}`;
  expect(response.status, where).toBeLessThan(500);
  expect(text, where).not.toMatch(/\bat [^\n]*\.(ts|js):\d+/);
  if (response.status >= 400) {
    expect(response.headers.get('content-type'), where).toMatch(/^application\/problem\+json/);
    const problem = JSON.parse(text) as { code?: unknown; status?: unknown; type?: unknown; title?: unknown };
    expect(problem.code, where).toMatch(/^ERR_[A-Z_]+$/);
    expect(problem.status, where).toBe(response.status);
    expect(typeof problem.title, where).toBe('string');
    expect(stateCounts(), where).toEqual(before);
  } else if (/^application\/json/.test(response.headers.get('content-type') ?? '')) {
    expect(() => JSON.parse(text) as unknown, where).not.toThrow();
  }
}

// ---- Generators ---------------------------------------------------------------------------------

const hugeString = fc.integer({ min: 1, max: 300_000 }).map((n) => 'x'.repeat(n));
const hugeNumberText = fc.constantFrom('1e400', '-1e400', '123456789012345678901234567890', '-0', '0.000000000000000000001', '9007199254740993', '1E+308');
/**
 * Nesting `depth` deep, built only when the request is made: fast-check prints a failing case
 * through this description (printing the value itself would overflow the stack).
 */
class DeepValue {
  constructor(
    readonly kind: 'array' | 'object',
    readonly depth: number,
  ) {}

  build(): unknown {
    let value: unknown = this.kind === 'array' ? [] : {};
    for (let i = 0; i < this.depth; i++) value = this.kind === 'array' ? [value] : { a: value };
    return value;
  }

  [fc.toStringMethod](): string {
    return `${this.kind} nested ${this.depth} deep`;
  }
}

/** Values that are wrong somewhere: types, sizes, nesting, prototype keys. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, '', ' ', '\u0000', '\ud800', 'pdq', 'suicide', [], {}, [null], ['suicide', 'suicide']),
  fc.jsonValue({ maxDepth: 3 }),
  hugeString,
  fc.integer({ min: 10, max: 2000 }).map((depth) => new DeepValue('array', depth)),
  fc.integer({ min: 10, max: 2000 }).map((depth) => new DeepValue('object', depth)),
  fc.constant(JSON.parse('{"__proto__": {"admin": true, "roles": ["admin"]}, "constructor": {"prototype": {"x": 1}}}') as unknown),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

type Mutation = { readonly kind: 'set' | 'delete' | 'add'; readonly pick: number; readonly key: string; readonly value: unknown };
const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('set', 'set', 'delete', 'add'),
  pick: fc.nat(),
  key: fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'extra', 'signals', 'queries', 'verdict', 'roles'),
  value: hostileValue,
});

/** The containers (objects and arrays) of a value down to 20 levels, outermost first: where a mutation may land. */
function containers(value: unknown, found: (Record<string, unknown> | unknown[])[] = [], level = 0): (Record<string, unknown> | unknown[])[] {
  if (value === null || typeof value !== 'object' || level > 20) return found;
  found.push(value as Record<string, unknown>);
  for (const child of Object.values(value)) containers(child, found, level + 1);
  return found;
}

function mutate(body: Record<string, unknown>, mutations: readonly Mutation[]): unknown {
  for (const m of mutations) {
    // A copy, so that two mutations sharing one generated value cannot make a cycle.
    const value = m.value instanceof DeepValue ? m.value.build() : (JSON.parse(JSON.stringify(m.value) ?? 'null') as unknown);
    const all = containers(body);
    const container = all[m.pick % all.length]!;
    const keys = Object.keys(container);
    const existing = keys[m.pick % Math.max(keys.length, 1)];
    if (m.kind === 'add' || existing === undefined) Object.defineProperty(container, m.key, { value, enumerable: true, writable: true, configurable: true });
    else if (m.kind === 'delete') delete (container as Record<string, unknown>)[existing];
    else (container as Record<string, unknown>)[existing] = value;
  }
  return body;
}

/** Raw bytes that are not a good JSON body. */
const rawBody: fc.Arbitrary<Buffer> = fc.oneof(
  fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value) ?? 'null')),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
  fc.tuple(fc.string(), fc.constantFrom([0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82])).map(([text, bad]) =>
    Buffer.concat([Buffer.from(`{"signals":[{"type":"pdq","hash":"`), Buffer.from(text), Buffer.from(bad), Buffer.from('"}]}')]),
  ),
  fc.integer({ min: 1000, max: 120_000 }).map((depth) => Buffer.from('['.repeat(depth) + ']'.repeat(depth))),
  fc.integer({ min: 1000, max: 120_000 }).map((depth) => Buffer.from('{"queries":' + '{"a":'.repeat(depth) + '1' + '}'.repeat(depth) + '}')),
  hugeNumberText.map((n) => Buffer.from(`{"queries":[{"type":"pdq","hash":"${HASH}","maxDistance":${n}}],"limit":${n}}`)),
  fc.constant(Buffer.from('{"signals":[],"signals":[{"type":"pdq"}],"__proto__":{"signals":[]}}')),
  fc.nat({ max: 60 }).map((cut) => Buffer.from(JSON.stringify({ signals: [{ type: 'pdq', hash: HASH, labels: ['suicide'], media: 'image', quality: 90 }] }).slice(0, cut))),
  fc.constant(Buffer.from('\ufeff{"queries":[]}')),
);

const contentType = fc.constantFrom(
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'APPLICATION/JSON',
  'application/json;;;',
  NDJSON,
  'application/ndjson',
);
/** The route's own media type half of the time (so that NDJSON bodies reach the job route), else any. */
const contentTypeFor = (op: Operation, own: boolean, other: string) => (own ? (op.ndjson ? NDJSON : 'application/json') : other);

const queryName = fc.constantFrom('type', 'hash', 'maxDistance', 'limit', 'includeDisputed', 'after', 'member', 'action', 'since', 'until', 'seq', 'treeSize', 'from', 'to', 'format', '__proto__', 'constructor', 'x');
const queryValue = fc.oneof(
  fc.constantFrom('pdq', 'md5', HASH, HASH.toUpperCase(), '-1', '0', '1e99', '99999999999999999999', '9007199254740993', '', 'true', 'csv', 'ndjson', '2026-01-01T00:00:00Z', 'not-a-date', '%', '\u0000'),
  fc.string({ maxLength: 80 }),
  fc.integer({ min: 1, max: 5000 }).map((n) => 'f'.repeat(n)),
);
const query = fc.array(fc.tuple(queryName, queryValue), { maxLength: 6 }).map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'));
const pathValue = fc.option(fc.oneof(fc.string({ maxLength: 100 }), fc.constantFrom('..', '.', '%', '__proto__', 'constructor', 'admin', 'x'.repeat(5000))), { nil: undefined });

const operation = () => fc.constantFrom(...operations);
const bodyOperation = () => fc.constantFrom(...operations.filter((o) => o.hasBody));

const params = (examples = RUNS) => ({ numRuns: examples, seed: SEED, endOnFailure: true });

describe('fuzzing every route (signed properly, so requests reach validation)', () => {
  it('lists every route of the OpenAPI document', () => {
    expect(operations.length).toBeGreaterThanOrEqual(25);
    for (const op of operations.filter((o) => o.hasBody)) expect(() => exampleBody(op)).not.toThrow();
  });

  it('answers mutated valid bodies with a 2xx or problem JSON, and refusals change nothing', { timeout: 60_000 + RUNS * 200 }, async () => {
    await fc.assert(
      fc.asyncProperty(bodyOperation(), fc.array(mutation, { minLength: 1, maxLength: 4 }), pathValue, contentType, fc.boolean(), async (op, mutations, value, type, own) => {
        const body = encodeBody(op, mutate(exampleBody(op), mutations));
        await sendAndCheck({ method: op.method, target: fillPath(op.path, value), body, contentType: contentTypeFor(op, own, type), signed: true });
      }),
      params(),
    );
  });

  it('answers raw hostile bodies (random JSON, invalid UTF-8, deep nesting, huge numbers, truncation)', { timeout: 60_000 + RUNS * 200 }, async () => {
    await fc.assert(
      fc.asyncProperty(operation(), rawBody, contentType, async (op, body, type) => {
        const method = op.method === 'GET' ? 'POST' : op.method;
        await sendAndCheck({ method, target: fillPath(op.path, undefined), body, contentType: type, signed: op.signed });
      }),
      params(),
    );
  });

  it('answers fuzzed path parameters and query strings on every route', { timeout: 60_000 + RUNS * 200 }, async () => {
    await fc.assert(
      fc.asyncProperty(operation(), pathValue, query, fc.boolean(), async (op, value, search, repeat) => {
        const target = `${fillPath(op.path, value)}${search ? `?${search}${repeat ? `&${search}` : ''}` : ''}`;
        const body = op.hasBody ? encodeBody(op, exampleBody(op)) : undefined;
        await sendAndCheck({ method: op.method, target, body, contentType: contentTypeFor(op, true, ''), signed: op.signed });
      }),
      params(),
    );
  });

  it('refuses a body over the limit with 413 ERR_TOO_LARGE, declared or streamed', async () => {
    const before413 = statuses.get(413) ?? 0;
    const bodyOperations = operations.filter((o) => o.hasBody);
    for (const op of bodyOperations) {
      const body = op.ndjson ? Buffer.from(`${JSON.stringify(exampleBody(op))}\n`.repeat(Math.ceil((NDJSON_BODY_LIMIT + 1) / 90))) : Buffer.alloc(BODY_LIMIT + 1, 0x20);
      expect(body.length).toBeGreaterThan(op.ndjson ? NDJSON_BODY_LIMIT : BODY_LIMIT);
      await sendAndCheck({ method: op.method, target: fillPath(op.path, undefined), body, contentType: contentTypeFor(op, true, ''), signed: true });
    }
    expect((statuses.get(413) ?? 0) - before413).toBe(bodyOperations.length);
    expect(bodyOperations.some((o) => o.ndjson)).toBe(true);
    const streamed = await rawExchange(
      `POST /v1/signals HTTP/1.1\r\nHost: x\r\nAuthorization: ${await signRequest(fuzzer.key, { method: 'POST', target: '/v1/signals', body: Buffer.alloc(BODY_LIMIT + 10, 0x20) }, { now: t.now })}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
      async (write) => {
        for (let sent = 0; sent <= BODY_LIMIT; sent += 65_536) await write(`10000\r\n${' '.repeat(65_536)}\r\n`);
      },
    );
    expectProblem(streamed, 413, 'ERR_TOO_LARGE');
  });
});

// ---- NDJSON job bodies -------------------------------------------------------------------------

/** What a line of a job body must give: a query answered, an error line, or either (a mutation may leave it valid). */
type Expected = 'matches' | 'error' | 'either';
interface JobLine {
  readonly kind: string;
  readonly bytes: Buffer;
  readonly expected: Expected;
}

const ndjsonFigures = { jobs: 0, lines: 0, errorLines: 0, refused: 0, codes: {} as Record<string, number> };
const hex = (length: number) => fc.uint8Array({ minLength: length, maxLength: length }).map((bytes) => Buffer.from(bytes).toString('hex'));
const line = (kind: string, expected: Expected) => (text: string | Buffer): JobLine => ({ kind, bytes: Buffer.isBuffer(text) ? text : Buffer.from(text), expected });
/** No line break inside a line: it would make two lines. */
const oneLine = (text: string) => text.replace(/[\r\n]/g, ' ');

const jobLine: fc.Arbitrary<JobLine> = fc.oneof(
  // Valid queries: md5 and sha256 of any bytes, PDQ of a real hash within its radius.
  fc.tuple(fc.constantFrom('md5', 'sha256'), fc.boolean()).chain(([type, upper]) => hex(type === 'md5' ? 16 : 32).map((h) => line('valid', 'matches')(JSON.stringify({ type, hash: upper ? h.toUpperCase() : h, ref: 'ok' })))),
  fc.integer({ min: 0, max: 31 }).map((maxDistance) => line('valid', 'matches')(JSON.stringify({ type: 'pdq', hash: HASH, maxDistance }))),
  // Bad for certain.
  fc.constantFrom('', ' ', '\t', '   \t ').map(line('blank', 'error')),
  fc.tuple(fc.string({ maxLength: 30 }).map(oneLine), fc.constantFrom([0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82])).map(([text, bad]) =>
    line('not UTF-8', 'error')(Buffer.concat([Buffer.from(`{"type":"md5","hash":"${text}`), Buffer.from(bad), Buffer.from('"}')])),
  ),
  fc.integer({ min: JOB_LINE_LIMIT + 1, max: 200_000 }).map((n) => line('over the line limit', 'error')(`{"type":"pdq","hash":"${HASH}","ref":"${'x'.repeat(n)}"}`)),
  fc.constantFrom(
    `{"type":"pdq","hash":"${HASH}","__proto__":{"maxDistance":256}}`,
    `{"__proto__":{"type":"pdq","hash":"${HASH}"}}`,
    `{"type":"pdq","hash":"${HASH}","constructor":{"prototype":{"admin":true}}}`,
  ).map(line('__proto__ keys', 'error')),
  fc.nat({ max: 40 }).map((cut) => line('truncated', 'error')(JSON.stringify({ type: 'pdq', hash: HASH }).slice(0, cut))),
  fc.constantFrom('null', '[]', '42', '"pdq"', 'true', '{}', `[{"type":"pdq","hash":"${HASH}"}]`, '{"type":"pdq","hash":12}', '{"type":"pdq","hash":"00"}').map(line('wrong shape', 'error')),
  // Could be anything.
  fc.string({ maxLength: 200 }).map((text) => line('random text', 'either')(oneLine(text))),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => line('random bytes', 'either')(Buffer.from(bytes.filter((byte) => byte !== 0x0a)))),
  fc.array(mutation, { minLength: 1, maxLength: 3 }).map((mutations) =>
    line('mutated', 'either')(JSON.stringify(mutate({ type: 'pdq', hash: HASH, maxDistance: 31, ref: 'r1' }, mutations)) ?? 'null'),
  ),
);

/** Polls a job of the fuzzer until it has ended. */
async function jobEnded(id: string): Promise<{ status: string; total: number; done: number; errorLines: number }> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const job = await fuzzer.client.jobStatus(id);
    if ((job.status !== 'queued' && job.status !== 'running') || Date.now() > deadline) return job;
    await sleep(10);
  }
}

describe('fuzzing batch job bodies (NDJSON)', () => {
  it('turns every bad line into an error line of a job that still ends done; another media type is refused and keeps nothing', { timeout: 60_000 + RUNS * 400 }, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(jobLine, { minLength: 1, maxLength: 12 }),
        fc.constantFrom('\n', '\r\n'),
        fc.constantFrom(NDJSON, NDJSON, NDJSON, 'application/ndjson', 'application/json', 'text/plain', 'application/octet-stream'),
        async (lines, ending, type) => {
          const body = Buffer.concat(lines.flatMap((l) => [l.bytes, Buffer.from(ending)]));
          const before = stateCounts();
          const authorization = await signRequest(fuzzer.key, { method: 'POST', target: '/v1/jobs', body }, { now: t.now });
          const response = await fetch(`${t.service.url}/v1/jobs`, { method: 'POST', headers: { authorization, 'content-type': type }, body });
          const text = await response.text();
          served++;
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          const where = `${type} ${JSON.stringify(lines.map((l) => l.kind))} → ${response.status} ${text.slice(0, 300)}`;
          if (!/ndjson/.test(type)) {
            expect(response.status, where).toBe(415);
            expect(response.headers.get('content-type'), where).toMatch(/^application\/problem\+json/);
            expect(JSON.parse(text), where).toMatchObject({ status: 415, code: 'ERR_UNSUPPORTED_MEDIA_TYPE' });
            expect(stateCounts(), where).toEqual(before);
            ndjsonFigures.refused++;
            return;
          }
          expect(response.status, where).toBe(202);
          const job = JobSchema.parse(JSON.parse(text));
          expect(job.total, where).toBe(lines.length);
          const ended = await jobEnded(job.id);
          expect(ended, where).toMatchObject({ status: 'done', done: lines.length, total: lines.length });
          let results = '';
          for await (const chunk of await fuzzer.client.jobResults(job.id)) results += Buffer.from(chunk).toString('utf8');
          const parsed = results
            .split('\n')
            .filter((l) => l !== '')
            .map((l) => JobResultLineSchema.parse(JSON.parse(l)) as { line: number; matches?: unknown[]; error?: { code: string } });
          expect(parsed.map((result) => result.line), where).toEqual(lines.map((_, i) => i + 1));
          parsed.forEach((result, i) => {
            const sent = lines[i]!;
            const got = result.error ? 'error' : 'matches';
            if (sent.expected !== 'either') expect({ line: i + 1, kind: sent.kind, got }, where).toEqual({ line: i + 1, kind: sent.kind, got: sent.expected });
            if (result.error) {
              expect(result.error.code, where).toMatch(/^ERR_[A-Z_]+$/);
              ndjsonFigures.codes[result.error.code] = (ndjsonFigures.codes[result.error.code] ?? 0) + 1;
              ndjsonFigures.errorLines++;
            }
          });
          expect(ended.errorLines, where).toBe(parsed.filter((result) => result.error).length);
          ndjsonFigures.jobs++;
          ndjsonFigures.lines += lines.length;
        },
      ),
      params(Math.max(10, Math.round(RUNS / 3))),
    );
    expect(ndjsonFigures.jobs).toBeGreaterThan(0);
    expect(ndjsonFigures.refused).toBeGreaterThan(0);
  });
});

// ---- Raw sockets --------------------------------------------------------------------------------

interface RawAnswer {
  readonly status: number;
  readonly headers: string;
  readonly body: string;
  readonly ms: number;
}

/** Writes `head`, then whatever `more` writes, and reads until the server closes or answers in full. */
async function rawExchange(head: string | Buffer, more?: (write: (chunk: string) => Promise<void>) => Promise<void>, limitMs = 10_000): Promise<RawAnswer> {
  const url = new URL(t.service.url);
  const socket = connect(Number(url.port), url.hostname);
  const started = performance.now();
  let received = Buffer.alloc(0);
  let closed = false;
  const done = new Promise<void>((resolve) => {
    const finish = () => {
      closed = true;
      resolve();
    };
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const text = received.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(text.slice(0, end))?.[1];
      if (end >= 0 && length !== undefined && received.length >= end + 4 + Number(length)) finish();
    });
    socket.on('close', finish);
    socket.on('error', finish);
    setTimeout(finish, limitMs).unref();
  });
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write(head);
  const write = (chunk: string) =>
    new Promise<void>((resolve) => {
      if (closed || socket.destroyed) return resolve();
      socket.write(chunk, () => resolve());
    });
  if (more) await Promise.race([more(write), done]);
  await done;
  socket.destroy();
  const text = received.toString('utf8');
  const split = text.indexOf('\r\n\r\n');
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), headers: text.slice(0, split), body: text.slice(split + 4), ms: performance.now() - started };
}

function expectProblem(answer: RawAnswer, status: number, code: string): void {
  expect(answer.status, answer.headers).toBe(status);
  expect(answer.headers.toLowerCase()).toContain('content-type: application/problem+json');
  expect(JSON.parse(answer.body)).toMatchObject({ status, code });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The value of one series of the service's /metrics, 0 when it is absent. */
async function metricValue(series: string): Promise<number> {
  return (await readMetrics(t.service.url)).get(series) ?? 0;
}

describe('hostile clients on raw sockets', () => {
  it('refuses headers over the limit with 431 ERR_TOO_LARGE, counted as a rejection and a request', async () => {
    const rejections = () => metricValue('signalbank_rejections_total{code="ERR_TOO_LARGE"}');
    const unparsed = () => metricValue('signalbank_http_requests_total{method="unparsed",route="unmatched",status="431"}');
    const before = [await rejections(), await unparsed()];
    const answer = await rawExchange(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    expectProblem(answer, 431, 'ERR_TOO_LARGE');
    expect(answer.headers).toMatch(new RegExp(`X-Request-Id: ${(JSON.parse(answer.body) as { requestId: string }).requestId}`));
    const many = Array.from({ length: 3000 }, (_, i) => `X-H${i}: v`).join('\r\n');
    expectProblem(await rawExchange(`GET /healthz HTTP/1.1\r\nHost: x\r\n${many}\r\n\r\n`), 431, 'ERR_TOO_LARGE');
    expect([await rejections(), await unparsed()]).toEqual([before[0]! + 2, before[1]! + 2]);
  });

  it('answers garbage and malformed requests with problem JSON', async () => {
    expectProblem(await rawExchange('NOT HTTP AT ALL\r\n\r\n'), 400, 'ERR_VALIDATION');
    expectProblem(await rawExchange(Buffer.from([0x47, 0x45, 0x54, 0x20, 0x2f, 0xff, 0xfe, 0x20, 0x48, 0x54, 0x54, 0x50, 0x2f, 0x31, 0x2e, 0x31, 0x0d, 0x0a, 0x0d, 0x0a])), 400, 'ERR_VALIDATION');
    expectProblem(await rawExchange('GET /v1/signals/%ff%fe HTTP/1.1\r\nHost: x\r\n\r\n'), 400, 'ERR_VALIDATION');
    expectProblem(await rawExchange('POST /v1/signals HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!'), 400, 'ERR_VALIDATION');
    expectProblem(await rawExchange('POST /v1/signals HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n'), 400, 'ERR_VALIDATION');
  });

  it('cuts a client that dribbles its headers with 408 ERR_TIMEOUT, in bounded time', async () => {
    const answer = await rawExchange('GET /healthz HTTP/1.1\r\n', async (write) => {
      for (let i = 0; i < 100; i++) {
        await write(`X-Slow-${i}: 1\r\n`);
        await sleep(100);
      }
    });
    expectProblem(answer, 408, 'ERR_TIMEOUT');
    expect(answer.ms).toBeLessThan(HEADERS_TIMEOUT_MS + 2500);
  });

  it('cuts a client that dribbles its body, in bounded time, and nothing changes', async () => {
    const before = stateCounts();
    const body = JSON.stringify({ signals: [{ type: 'pdq', hash: randomBytes(32).toString('hex'), labels: ['suicide'], media: 'image', quality: 90 }] });
    const authorization = await signRequest(fuzzer.key, { method: 'POST', target: '/v1/signals', body: Buffer.from(body) }, { now: t.now });
    const answer = await rawExchange(`POST /v1/signals HTTP/1.1\r\nHost: x\r\nAuthorization: ${authorization}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`, async (write) => {
      for (const char of body) {
        await write(char);
        await sleep(150);
      }
    });
    expectProblem(answer, 408, 'ERR_TIMEOUT');
    expect(answer.ms).toBeLessThan(REQUEST_TIMEOUT_MS + 2500);
    expect(stateCounts()).toEqual(before);
  });

  it('keeps serving after all of it', async () => {
    expect((await fetch(`${t.service.url}/healthz`)).status).toBe(200);
    expect((await fuzzer.client.matchOne({ type: 'pdq', hash: HASH, includeDisputed: true })).matches[0]).toMatchObject({ id: signalId, distance: 0 });
  });
});
