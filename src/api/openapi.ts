/**
 * Generates the OpenAPI 3.1 document from the route table and its zod schemas: paths, path and
 * query parameters (numbers described as the numbers they stand for, with their bounds), request
 * bodies (the items of batch envelopes as the schema each item is checked against), answers, the
 * problem answers of every error code a route may give (those of the request pipeline derived
 * from the route), the roles each operation needs (`x-roles`) and the JWS request-signing scheme.
 * Descriptions come from zod's global registry, where `.describe()` and the named schemas put them.
 */
import { z } from 'zod';
import { ERROR_CATALOGUE, type ErrorCode } from '../errors.js';
import { pipelineErrors, type RouteSpec } from './route.js';
import { batchItemSchemaOf } from './schemas.js';

type JsonSchema = Record<string, unknown>;

const COMPONENT_PREFIX = '#/components/schemas/';

/** A batch envelope's item is any value for zod (checked one by one later); the document refers to its item schema. */
function describeBatchItem({ zodSchema, jsonSchema }: { zodSchema: z.core.$ZodType; jsonSchema: JsonSchema }): void {
  const checkedAs = batchItemSchemaOf(zodSchema);
  if (checkedAs === undefined) return;
  const id = z.globalRegistry.get(checkedAs)?.id;
  if (id === undefined) throw new Error('A batch item schema must be named (a component) to be referred to');
  jsonSchema['$ref'] = `${COMPONENT_PREFIX}${id}`;
}

const CONVERSION = { target: 'draft-2020-12', unrepresentable: 'any', override: describeBatchItem } as const;

/** JSON Schema of a zod schema, with named sub-schemas referenced as components. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const converted = z.toJSONSchema(schema, { ...CONVERSION, io }) as JsonSchema;
  delete converted['$schema'];
  delete converted['$defs'];
  return JSON.parse(JSON.stringify(converted).replaceAll('"#/$defs/', `"${COMPONENT_PREFIX}`)) as JsonSchema;
}

function componentSchemas(): Record<string, JsonSchema> {
  const { schemas } = z.toJSONSchema(z.globalRegistry, { ...CONVERSION, uri: (id) => `${COMPONENT_PREFIX}${id}` }) as {
    schemas: Record<string, JsonSchema>;
  };
  for (const schema of Object.values(schemas)) {
    delete schema['$schema'];
    delete schema['$id'];
  }
  return schemas;
}

const isNumeric = (schema: JsonSchema | undefined): schema is JsonSchema => schema?.['type'] === 'integer' || schema?.['type'] === 'number';

/**
 * Path and query parameters. A query string carries numbers as text: a parameter read from text
 * into a number is described as that number (type, minimum, maximum), not as its text pattern.
 */
function parameters(schema: z.ZodType | undefined, location: 'path' | 'query'): JsonSchema[] {
  if (!schema) return [];
  const sent = jsonSchema(schema, 'input');
  const read = (jsonSchema(schema, 'output')['properties'] ?? {}) as Record<string, JsonSchema>;
  const properties = (sent['properties'] ?? {}) as Record<string, JsonSchema>;
  const required = new Set((sent['required'] ?? []) as string[]);
  return Object.entries(properties).map(([name, text]) => {
    const value = read[name];
    const property = text['type'] === 'string' && isNumeric(value) ? value : text;
    return {
      name,
      in: location,
      required: location === 'path' || required.has(name),
      ...(typeof property['description'] === 'string' && { description: property['description'] }),
      schema: property,
    };
  });
}

function errorResponses(codes: readonly ErrorCode[]): Record<string, JsonSchema> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) {
    const { status } = ERROR_CATALOGUE[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  byStatus.set(500, [...(byStatus.get(500) ?? []), 'ERR_INTERNAL']);
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [
      String(status),
      {
        description: list.join(', '),
        content: { 'application/problem+json': { schema: { $ref: `${COMPONENT_PREFIX}Problem` } } },
      },
    ]),
  );
}

export interface OpenApiInfo {
  readonly version: string;
  readonly audience: string;
}

export function buildOpenApiDocument(routes: readonly RouteSpec[], info: OpenApiInfo): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const signed = route.access !== 'public';
    const responses: Record<string, JsonSchema> = errorResponses([...pipelineErrors(route), ...(route.errors ?? [])]);
    for (const [status, response] of Object.entries(route.responses)) {
      responses[status] = {
        description: response.description,
        ...(response.schema && { content: { [response.contentType ?? 'application/json']: { schema: jsonSchema(response.schema, 'output') } } }),
        ...(!response.schema && response.contentType && { content: { [response.contentType]: {} } }),
      };
    }
    const operation: JsonSchema = {
      operationId: route.operationId,
      summary: route.summary,
      ...(route.description !== undefined && { description: route.description }),
      tags: [route.tag],
      security: signed ? [{ signedRequest: [] }] : [],
      'x-roles': route.access,
      parameters: [...parameters(route.params, 'path'), ...parameters(route.query, 'query')],
      ...(route.body && { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body, 'input') } } } }),
      ...(route.streamedBody && {
        requestBody: {
          required: true,
          description: route.streamedBody.description,
          content: Object.fromEntries(route.streamedBody.mediaTypes.map((type) => [type, { schema: jsonSchema(route.streamedBody!.lineSchema, 'input') }])),
        },
      }),
      responses,
    };
    (paths[route.path] ??= {})[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'signalbank',
      version: info.version,
      description:
        'Hash-sharing service for suicide and self-harm violating media. Members submit and match perceptual hashes; ' +
        'every /v1 request is signed with the member’s own key (see the signedRequest scheme). Errors are RFC 9457 problem JSON with stable ERR_* codes.',
    },
    servers: [{ url: '/' }],
    tags: [
      { name: 'signals', description: 'Submit, read, retract and give opinions on signals' },
      { name: 'match', description: 'Nearest-match lookup' },
      { name: 'jobs', description: 'Batch matching jobs of up to 10 million queries (NDJSON in, NDJSON out)' },
      { name: 'taxonomy', description: 'Labels' },
      { name: 'admin', description: 'Members, keys and labels (admin role)' },
      { name: 'changes', description: 'The ordered change feed that local mirrors follow (sync role)' },
      { name: 'audit', description: 'The tamper-evident signal log, proofs, reports and exports (auditor role)' },
      { name: 'service', description: 'Health, metrics and documentation' },
    ],
    paths,
    components: {
      schemas: componentSchemas(),
      securitySchemes: {
        signedRequest: {
          type: 'http',
          scheme: 'JWS',
          description:
            'Authorization: JWS <compact JWS>. Protected header {alg: EdDSA|ES256, kid, typ: "sb-req+jwt"}; claims {iss: member id, ' +
            `aud: "${info.audience}", iat, exp (at most 300 s after iat), jti (16–128 of [A-Za-z0-9_-], never reused), htm: method, ` +
            'htu: path and query exactly as sent, bd: base64url SHA-256 of the exact body bytes}. 30 s of clock skew are allowed.',
        },
      },
    },
  };
}
