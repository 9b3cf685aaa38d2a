/**
 * `/openapi.json` checked against the schemas that validate requests: batch envelopes describe
 * their items, every zod `.describe()` text and every query bound reaches the document, error
 * lists hold the codes the request pipeline gives, and sample requests are accepted or refused
 * alike by the document (a JSON Schema validator — the ajv already in node_modules, draft-07,
 * which reads the document's keywords alike) and by the running service.
 */
import Ajv from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { RouteSpec } from '../../src/api/route.js';
import { routeTable } from '../../src/api/route-table.js';
import { batchItemSchemaOf } from '../../src/api/schemas.js';
import { signRequest } from '../../src/client/sign-request.js';
import { withQuery } from '../../src/client/signalbank-client.js';
import { codeOf } from '../support/error-code.js';
import { startTestService, type TestMember, type TestService } from '../support/test-service.js';

type Json = Record<string, unknown>;
interface Parameter {
  readonly name: string;
  readonly in: string;
  readonly required: boolean;
  readonly schema: Json;
}
interface Operation {
  readonly operationId: string;
  readonly parameters: Parameter[];
  readonly requestBody?: { content: Record<string, { schema: Json }> };
  readonly responses: Record<string, { description: string }>;
}
interface OpenApiDocument {
  readonly paths: Record<string, Record<string, Operation>>;
  readonly components: { schemas: Record<string, Json> };
}

const PDQ_HASH = 'd8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22';
const MD5_HASH = '9e107d9d372bb6826bd81d3542a419d6';

/** The service's route table; its handlers never run here, so their dependencies are left out. */
const unused = {} as never;
const ROUTES: RouteSpec[] = routeTable({ bank: unused, store: unused, metrics: unused, readiness: unused, matchCounter: unused, checkpoints: unused, jobs: unused, openApi: () => ({}) });

let t: TestService;
let caller: TestMember;
let document: OpenApiDocument;

beforeAll(async () => {
  t = await startTestService();
  caller = await t.member('checker', ['submitter', 'matcher', 'sync', 'auditor']);
  document = (await (await fetch(`${t.service.url}/openapi.json`)).json()) as OpenApiDocument;
});
afterAll(async () => t?.stop());

const operationOf = (route: RouteSpec): Operation => {
  const operation = document.paths[route.path]?.[route.method.toLowerCase()];
  if (!operation) throw new Error(`${route.method} ${route.path} is missing from the document`);
  return operation;
};
const operation = (method: string, path: string): Operation => operationOf(ROUTES.find((route) => route.method === method && route.path === path)!);
const bodySchema = (op: Operation): Json | undefined => op.requestBody?.content['application/json']?.schema;
const codesOf = (op: Operation, status: number): string[] => op.responses[String(status)]?.description.split(', ') ?? [];

/** Every zod schema reachable from `schema`: wrapped, piped, shaped, listed — and the item schema of a batch envelope. */
function reachableSchemas(schema: z.core.$ZodType, seen = new Set<z.core.$ZodType>()): Set<z.core.$ZodType> {
  if (seen.has(schema)) return seen;
  seen.add(schema);
  const visit = (value: unknown): void => {
    if (value instanceof z.ZodType) reachableSchemas(value, seen);
    else if (Array.isArray(value)) value.forEach(visit);
    else if (typeof value === 'object' && value !== null && !('_zod' in value)) Object.values(value).forEach(visit);
  };
  const item = batchItemSchemaOf(schema);
  if (item) visit(item);
  Object.values(schema._zod.def).forEach(visit);
  return seen;
}

function routeSchemas(route: RouteSpec): z.ZodType[] {
  const responses = Object.values(route.responses).map((response) => response.schema);
  return [route.params, route.query, route.body, route.streamedBody?.lineSchema, ...responses].filter((schema) => schema !== undefined);
}

function documentDescriptions(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((item) => documentDescriptions(item, found));
  else if (typeof value === 'object' && value !== null) {
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'description' && typeof inner === 'string') found.add(inner);
      else documentDescriptions(inner, found);
    }
  }
  return found;
}

describe('the OpenAPI document against the route table', () => {
  it('has one operation per route', () => {
    const documented = Object.values(document.paths).flatMap((methods) => Object.values(methods).map((op) => op.operationId));
    expect(documented.sort()).toEqual(ROUTES.map((route) => route.operationId).sort());
  });

  it('describes the items of batch envelopes as the schema each item is checked against', () => {
    const items = (method: string, path: string, field: string) =>
      ((bodySchema(operation(method, path))?.['properties'] as Record<string, Json> | undefined)?.[field]?.['items']);
    expect(items('POST', '/v1/signals', 'signals')).toEqual({ $ref: '#/components/schemas/SubmissionItem' });
    expect(items('POST', '/v1/match', 'queries')).toEqual({ $ref: '#/components/schemas/MatchQuery' });
    expect(JSON.stringify(document)).not.toContain('"items":{}');
    const text = JSON.stringify({ paths: document.paths, components: document.components });
    const unreferenced = Object.keys(document.components.schemas).filter((id) => !text.includes(`"#/components/schemas/${id}"`));
    expect(unreferenced).toEqual([]);
  });

  it('carries every .describe() text of the schemas that validate requests and shape answers', () => {
    const texts = new Set<string>();
    for (const route of ROUTES) {
      for (const root of routeSchemas(route)) {
        for (const schema of reachableSchemas(root)) {
          const description = z.globalRegistry.get(schema)?.description;
          if (description !== undefined) texts.add(description);
        }
      }
    }
    expect(texts).toContain('Cursor: changes with seq greater than this (default 0, the beginning)');
    expect(texts.size).toBeGreaterThan(40);
    const described = documentDescriptions(document);
    expect([...texts].filter((text) => !described.has(text))).toEqual([]);
  });

  it('states the bounds of every numeric query parameter', () => {
    const bounds = (method: string, path: string, name: string) => {
      const schema = operation(method, path).parameters.find((parameter) => parameter.name === name)?.schema;
      return [schema?.['type'], schema?.['minimum'], schema?.['maximum']];
    };
    expect(bounds('GET', '/v1/match', 'limit')).toEqual(['integer', 1, 100]);
    expect(bounds('GET', '/v1/match', 'maxDistance')).toEqual(['integer', 0, 64]);
    expect(bounds('GET', '/v1/changes', 'limit')).toEqual(['integer', 1, 10_000]);
    expect(bounds('GET', '/v1/audit/entries', 'limit')).toEqual(['integer', 1, 10_000]);
    expect(bounds('POST', '/v1/jobs', 'limit')).toEqual(['integer', 1, 100]);
    const numeric = ROUTES.flatMap((route) => operationOf(route).parameters).filter((parameter) => ['integer', 'number'].includes(String(parameter.schema['type'])));
    expect(numeric.length).toBeGreaterThanOrEqual(12);
    for (const parameter of numeric) expect([parameter.name, typeof parameter.schema['minimum'], typeof parameter.schema['maximum']]).toEqual([parameter.name, 'number', 'number']);
    // Hashes and radii in bodies too: the bounds their signal types enforce.
    expect(document.components.schemas['MatchQuery']?.['properties']).toMatchObject({
      hash: { minLength: 32, maxLength: 64, pattern: '^[0-9A-Fa-f]+$' },
      maxDistance: { type: 'integer', minimum: 0, maximum: 64 },
    });
  });

  it('lists the codes of the request pipeline: 400 on every route, 415 on every route with a body', () => {
    for (const route of ROUTES) {
      const op = operationOf(route);
      const takesBody = route.body !== undefined || route.streamedBody !== undefined;
      expect([route.operationId, codesOf(op, 400).includes('ERR_VALIDATION')]).toEqual([route.operationId, true]);
      expect([route.operationId, codesOf(op, 415)]).toEqual([route.operationId, takesBody ? ['ERR_UNSUPPORTED_MEDIA_TYPE'] : []]);
      if (route.body) expect(codesOf(op, 400)).toContain('ERR_BAD_JSON');
    }
    expect(codesOf(operation('POST', '/v1/signals/{id}/opinions'), 415)).toEqual(['ERR_UNSUPPORTED_MEDIA_TYPE']);
    expect(codesOf(operation('PATCH', '/v1/admin/members/{id}'), 415)).toEqual(['ERR_UNSUPPORTED_MEDIA_TYPE']);
    expect(codesOf(operation('GET', '/v1/signals/{id}'), 400)).toContain('ERR_VALIDATION');
    expect(codesOf(operation('DELETE', '/v1/signals/{id}/submission'), 400)).toContain('ERR_VALIDATION');
  });

  it('answers the codes it lists: 415 for a JSON route given another media type, 400 for an id over 64 characters', async () => {
    const sendAsText = async (member: TestMember, method: string, target: string) => {
      const body = new TextEncoder().encode('{}');
      const authorization = await signRequest(member.key, { method, target, body }, { now: t.now });
      const answer = await fetch(`${t.service.url}${target}`, { method, headers: { 'content-type': 'text/plain', authorization }, body });
      return [answer.status, ((await answer.json()) as { code: string }).code];
    };
    expect(await sendAsText(caller, 'POST', '/v1/signals/x/opinions')).toEqual([415, 'ERR_UNSUPPORTED_MEDIA_TYPE']);
    expect(await sendAsText(t.admin, 'PATCH', '/v1/admin/members/checker')).toEqual([415, 'ERR_UNSUPPORTED_MEDIA_TYPE']);
    expect(await codeOf(caller.client.getSignal('x'.repeat(65)))).toBe('ERR_VALIDATION');
    expect(await codeOf(caller.client.retract('x'.repeat(65)))).toBe('ERR_VALIDATION');
  });
});

/** Validators of the document's schemas; query values arrive as text, so those are read as the type they document. */
const bodyValidator = new Ajv({ allErrors: true });
const queryValidator = new Ajv({ allErrors: true, coerceTypes: true });

function documentAccepts(op: Operation, request: { readonly query?: Record<string, string>; readonly body?: unknown }): boolean {
  const components = document.components;
  const query = op.parameters.filter((parameter) => parameter.in === 'query');
  const querySchema = {
    type: 'object',
    properties: Object.fromEntries(query.map((parameter) => [parameter.name, parameter.schema])),
    required: query.filter((parameter) => parameter.required).map((parameter) => parameter.name),
    additionalProperties: false,
    components,
  };
  if (!queryValidator.validate(querySchema, { ...request.query })) return false;
  const body = bodySchema(op);
  return body === undefined || bodyValidator.validate({ ...body, components }, request.body) === true;
}

interface Sample {
  readonly query?: Record<string, string>;
  readonly body?: unknown;
  readonly valid: boolean;
}

const pdqItem = (overrides: Json = {}): Json => ({ type: 'pdq', hash: PDQ_HASH, labels: ['suicide'], media: 'image', quality: 90, ...overrides });

/** What the service says of a sample: accepted (every item too), or refused (400, or an item refused). */
async function serviceAccepts(method: string, path: string, sample: Sample): Promise<boolean> {
  if (path === '/v1/jobs') {
    const code = await codeOf(caller.client.createJob([{ type: 'md5', hash: MD5_HASH }], { limit: Number(sample.query?.['limit']) }));
    if (code !== undefined && code !== 'ERR_VALIDATION') throw new Error(`unexpected ${code}`);
    return code === undefined;
  }
  const answer = await caller.client.send(method, withQuery(path, sample.query), sample.body);
  if (answer.status === 400) return false;
  if (answer.status !== 200) throw new Error(`unexpected ${answer.status} ${JSON.stringify(answer.body)}`);
  const results = (answer.body as { results?: Json[] }).results ?? [];
  return results.every((result) => result['error'] === undefined);
}

const match = (query: Record<string, string>) => ({ type: 'pdq', hash: PDQ_HASH, ...query });
const SAMPLES: Record<string, readonly Sample[]> = {
  'GET /v1/match': [
    { query: match({}), valid: true },
    { query: { type: 'md5', hash: MD5_HASH.toUpperCase() }, valid: true },
    { query: match({ maxDistance: '0', limit: '1', includeDisputed: 'true' }), valid: true },
    { query: match({ maxDistance: '64', limit: '100' }), valid: true },
    { query: match({ maxDistance: '65' }), valid: false },
    { query: match({ maxDistance: '1.5' }), valid: false },
    { query: match({ maxDistance: '-1' }), valid: false },
    { query: match({ maxDistance: 'abc' }), valid: false },
    { query: match({ limit: '0' }), valid: false },
    { query: match({ limit: '101' }), valid: false },
    { query: match({ includeDisputed: 'yes' }), valid: false },
    { query: match({ x: '1' }), valid: false },
    { query: { type: 'pdq' }, valid: false },
    { query: { type: 'pdq', hash: 'a'.repeat(300) }, valid: false },
    { query: { type: 'pdq', hash: `${PDQ_HASH.slice(2)}zz` }, valid: false },
  ],
  'POST /v1/match': [
    { body: { queries: [{ type: 'pdq', hash: PDQ_HASH, maxDistance: 31 }], limit: 5, includeDisputed: false }, valid: true },
    { body: { queries: [{ type: 'sha256', hash: PDQ_HASH }] }, valid: true },
    { body: { queries: [{ type: 'pdq', hash: PDQ_HASH, maxDistance: 65 }] }, valid: false },
    { body: { queries: [{ type: 'pdq', hash: PDQ_HASH, maxDistance: 1.5 }] }, valid: false },
    { body: { queries: [{ type: 'pdq', hash: PDQ_HASH, maxDistance: '3' }] }, valid: false },
    { body: { queries: [{ type: 'pdq', hash: 'a'.repeat(300) }] }, valid: false },
    { body: { queries: [{ type: 'pdq', hash: PDQ_HASH, extra: 1 }] }, valid: false },
    { body: { queries: [{ hash: PDQ_HASH }] }, valid: false },
    { body: { queries: [] }, valid: false },
    { body: { queries: [{ type: 'pdq', hash: PDQ_HASH }], limit: 101 }, valid: false },
    { body: { queries: [{ type: 'pdq', hash: PDQ_HASH }], more: true }, valid: false },
  ],
  'POST /v1/signals': [
    { body: { signals: [pdqItem({ ref: 'case-1' })] }, valid: true },
    { body: { signals: [{ type: 'md5', hash: MD5_HASH, labels: ['self_harm'], media: 'video' }] }, valid: true },
    { body: { signals: [] }, valid: true },
    { body: { signals: [pdqItem({ media: 'audio' })] }, valid: false },
    { body: { signals: [pdqItem({ labels: [] })] }, valid: false },
    { body: { signals: [pdqItem({ quality: 101 })] }, valid: false },
    { body: { signals: [pdqItem({ ref: 'x'.repeat(129) })] }, valid: false },
    { body: { signals: [pdqItem({ hash: 'a'.repeat(300) })] }, valid: false },
    { body: { signals: [pdqItem({ extra: true })] }, valid: false },
    { body: { signals: [{ type: 'pdq', hash: PDQ_HASH, labels: ['suicide'], quality: 90 }] }, valid: false },
    { body: { signals: 'nope' }, valid: false },
    { body: { items: [] }, valid: false },
  ],
  'GET /v1/changes': [
    { query: { after: '0', limit: '10000' }, valid: true },
    { query: { limit: '10001' }, valid: false },
    { query: { limit: '0' }, valid: false },
    { query: { after: '-1' }, valid: false },
  ],
  'GET /v1/audit/entries': [
    { query: { after: '0', limit: '10000', since: '2026-01-01T00:00:00Z' }, valid: true },
    { query: { limit: '10001' }, valid: false },
    { query: { since: 'yesterday' }, valid: false },
  ],
  'POST /v1/jobs': [
    { query: { limit: '100' }, valid: true },
    { query: { limit: '101' }, valid: false },
    { query: { limit: '0' }, valid: false },
  ],
};

describe('sample requests, judged by the document and by the service', () => {
  for (const [key, samples] of Object.entries(SAMPLES)) {
    it(`agree on ${key}`, async () => {
      const [method, path] = key.split(' ') as [string, string];
      const op = operation(method, path);
      for (const sample of samples) {
        const label = JSON.stringify(sample).slice(0, 160);
        expect([label, documentAccepts(op, sample)]).toEqual([label, sample.valid]);
        expect([label, await serviceAccepts(method, path, sample)]).toEqual([label, sample.valid]);
      }
    });
  }

  it('leaves to the service what only the signal type or the taxonomy can tell (the document accepts, the service refuses)', async () => {
    const op = operation('POST', '/v1/signals');
    const items = [pdqItem({ quality: undefined }), pdqItem({ quality: 40 }), pdqItem({ labels: ['cats'] }), pdqItem({ hash: '0'.repeat(64) }), pdqItem({ type: 'md5' })];
    for (const item of items) {
      const body = { signals: [JSON.parse(JSON.stringify(item)) as Json] };
      expect(documentAccepts(op, { body })).toBe(true);
      expect(await serviceAccepts('POST', '/v1/signals', { body, valid: false })).toBe(false);
    }
  });
});
