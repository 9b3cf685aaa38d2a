/**
 * A route as data: method, path, who may call it, the zod schemas of its parameters, query and
 * body, its documented answers and errors, and its handler. The app registers routes from this
 * table and the OpenAPI document is generated from the same table, so what is validated and what
 * is documented cannot drift apart.
 */
import type { Request, Response } from 'express';
import type { z } from 'zod';
import type { RouteAccess } from '../auth/roles.js';
import type { ErrorCode } from '../errors.js';
import type { AuditOrigin, Member } from '../store/store.js';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface RouteResponse {
  readonly description: string;
  readonly schema?: z.ZodType;
  /** Defaults to application/json. */
  readonly contentType?: string;
}

export interface RouteContext<P, Q, B> {
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  /** The verified caller; undefined on public routes. */
  readonly caller: Member | undefined;
  /** The caller and its request JWS, for audit entries. */
  readonly origin: AuditOrigin;
  readonly requestId: string;
  readonly req: Request;
  readonly res: Response;
}

/** The body of a route that reads it as it arrives (`streamedBody`), e.g. a job's NDJSON. */
export interface StreamedBody {
  /** The body's bytes, chunk by chunk, under the route's size limit. */
  readonly chunks: AsyncIterable<Buffer>;
  /** Call once `chunks` is read to its end: checks the signed body digest and consumes the jti. */
  verify(): Promise<void>;
}

/** A handler answers a JSON body (status defaults to 200), or `undefined` when it wrote the response itself. */
export interface JsonAnswer {
  readonly status?: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
}

export interface RouteSpec<P = unknown, Q = unknown, B = unknown> {
  readonly method: HttpMethod;
  /** OpenAPI-style path, e.g. `/v1/signals/{id}`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tag: string;
  /** `public` routes take no signature (health, metrics, docs). */
  readonly access: RouteAccess | 'public';
  readonly params?: z.ZodType<P, unknown>;
  readonly query?: z.ZodType<Q, unknown>;
  /** JSON body schema; routes without one (and without `streamedBody`) take an empty body. */
  readonly body?: z.ZodType<B, unknown>;
  /**
   * The route reads its body as a stream (`context.body` is a `StreamedBody`) of one of these
   * media types, under the NDJSON body limit instead of the JSON one; `lineSchema` documents
   * one line.
   */
  readonly streamedBody?: { readonly mediaTypes: readonly string[]; readonly lineSchema: z.ZodType; readonly description: string };
  readonly responses: Readonly<Record<number, RouteResponse>>;
  /**
   * The handler changes state in at most one transaction, which appends an audit entry with
   * `context.origin` whenever it changes anything: the request's `jti` is then recorded as used in
   * that transaction instead of a commit of its own before the handler runs, and after the handler
   * when it changed nothing. (A second audited transaction with the same origin would be refused
   * with `ERR_REPLAY`: the jti is already recorded.) Routes that change state without an audit
   * entry leave this unset: their jti is recorded first.
   */
  readonly jtiWithChange?: true;
  /** Codes this route's handler may answer besides those of the request pipeline (`pipelineErrors`), documented with them. */
  readonly errors?: readonly ErrorCode[];
  handle(context: RouteContext<P, Q, B>): Promise<JsonAnswer | undefined>;
}

/** Keeps a route's schema types and handler types tied together. */
export function defineRoute<P = Record<string, never>, Q = Record<string, never>, B = undefined>(spec: RouteSpec<P, Q, B>): RouteSpec {
  return spec;
}

/** `defineRoute` for a route that reads its body as a stream. */
export function defineStreamedRoute<P = Record<string, never>, Q = Record<string, never>>(
  spec: RouteSpec<P, Q, StreamedBody> & { readonly streamedBody: NonNullable<RouteSpec['streamedBody']> },
): RouteSpec {
  return spec;
}

/** Express path syntax of an OpenAPI path. */
export function expressPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ':$1');
}

/** Codes any signed route may answer. */
const SIGNED_ROUTE_ERRORS: readonly ErrorCode[] = [
  'ERR_AUTH_MISSING',
  'ERR_AUTH_MALFORMED',
  'ERR_ALG_NOT_ALLOWED',
  'ERR_KEY_UNKNOWN',
  'ERR_KEY_REVOKED',
  'ERR_SIGNATURE_INVALID',
  'ERR_AUDIENCE',
  'ERR_EXPIRED',
  'ERR_NOT_YET_VALID',
  'ERR_LIFETIME_TOO_LONG',
  'ERR_REPLAY',
  'ERR_METHOD_MISMATCH',
  'ERR_URL_MISMATCH',
  'ERR_BODY_DIGEST',
  'ERR_FORBIDDEN',
  'ERR_MEMBER_SUSPENDED',
  'ERR_RATE_LIMITED',
];

/**
 * Codes the request pipeline (`createApp`) may answer on a route, whatever its handler does:
 * those of signed requests; on any route `ERR_VALIDATION` (parameters, query or body refused by
 * their schema, a body sent to a route that takes none, a malformed URL) and `ERR_TOO_LARGE` (a
 * body over the route's limit, which is 0 without a body); with a JSON body `ERR_BAD_JSON` and
 * `ERR_UNSUPPORTED_MEDIA_TYPE`; with a streamed body `ERR_UNSUPPORTED_MEDIA_TYPE`.
 */
export function pipelineErrors(route: RouteSpec): ErrorCode[] {
  return [
    ...(route.access === 'public' ? [] : SIGNED_ROUTE_ERRORS),
    'ERR_VALIDATION',
    'ERR_TOO_LARGE',
    ...(route.body ? (['ERR_BAD_JSON', 'ERR_UNSUPPORTED_MEDIA_TYPE'] as const) : []),
    ...(route.streamedBody ? (['ERR_UNSUPPORTED_MEDIA_TYPE'] as const) : []),
  ];
}
