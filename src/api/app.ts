/**
 * The express application: registers every route of the route table behind one request
 * pipeline — request id and access log, signature verification (headers first, then the body
 * digest and jti), role check, per-member rate limit, bounded body reading, JSON parsing and
 * schema validation (a streamed-body route gets its body as it arrives instead) — and answers
 * every error as problem JSON from one error handler. Unknown paths are 404 and known paths
 * with another method 405, both as problem JSON.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { assertRole } from '../auth/roles.js';
import type { RequestVerifier } from '../auth/verify-signed-request.js';
import type { Config } from '../config.js';
import { InputError, LimitError, NotFoundError, isSignalbankError } from '../errors.js';
import type { AuditOrigin, Member } from '../store/store.js';
import type { ServiceMetrics } from './metrics.js';
import { PROBLEM_CONTENT_TYPE, toProblem, validationError } from './problem.js';
import type { RateLimiter } from './rate-limiter.js';
import { announcesBody, assertContentType, assertJsonContentType, parseJsonBody, readRawBody, streamRawBody } from './request-body.js';
import { expressPath, type JsonAnswer, type RouteContext, type RouteSpec, type StreamedBody } from './route.js';

export interface AppDependencies {
  readonly config: Config;
  readonly routes: readonly RouteSpec[];
  readonly verifier: RequestVerifier;
  readonly rateLimiter: RateLimiter;
  readonly metrics: ServiceMetrics;
  readonly logger: Logger;
}

interface Locals {
  requestId: string;
  route?: string;
  member?: string;
  code?: string;
}

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,64}$/;

const locals = (res: Response): Locals => res.locals as Locals;

export function createApp(deps: AppDependencies): express.Express {
  const { config, routes, verifier, rateLimiter, metrics, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  app.use((req: Request, res: Response, next: NextFunction) => {
    const incoming = req.headers['x-request-id'];
    const requestId = typeof incoming === 'string' && REQUEST_ID_RE.test(incoming) ? incoming : randomUUID();
    res.locals = { requestId } satisfies Locals;
    res.setHeader('X-Request-Id', requestId);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'no-store');
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const { route = 'unmatched', member, code } = locals(res);
      metrics.requests.inc({ method: req.method, route, status: res.statusCode });
      metrics.latency.observe({ method: req.method, route }, seconds);
      // Never the Authorization header, the body or the query (it carries hashes).
      logger.info({ requestId, method: req.method, route, status: res.statusCode, ms: Math.round(seconds * 1e4) / 10, member, code }, 'request');
    });
    next();
  });

  const methodsByPath = new Map<string, string[]>();
  for (const route of routes) {
    const path = expressPath(route.path);
    methodsByPath.set(path, [...(methodsByPath.get(path) ?? []), route.method]);
    const method = route.method.toLowerCase() as 'get' | 'post' | 'patch' | 'delete';
    app[method](path, async (req: Request, res: Response) => {
      locals(res).route = route.path;
      const context = await prepare(route, req, res);
      const answer = await handleRecordingJti(route, context);
      if (answer === undefined) return;
      if (answer.headers) res.set(answer.headers);
      res.status(answer.status ?? 200).json(answer.body);
    });
  }
  for (const [path, methods] of methodsByPath) {
    app.all(path, (req: Request, res: Response) => {
      res.setHeader('Allow', methods.join(', '));
      throw new LimitError('ERR_METHOD_NOT_ALLOWED', `${req.method} is not allowed here; use ${methods.join(' or ')}`);
    });
  }
  app.use((req: Request) => {
    throw new NotFoundError(`No route for ${req.method} ${req.path.slice(0, 200)}`);
  });

  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const coded = isSignalbankError(error) ? error : fromFrameworkError(error);
    const { requestId } = locals(res);
    const problem = toProblem(coded, requestId);
    locals(res).code = problem.body.code;
    metrics.rejections.inc({ code: problem.body.code });
    if (problem.unexpected) logger.error({ requestId, err: error, method: req.method, route: locals(res).route }, 'unexpected error');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // A refused body may still be arriving: close the connection rather than read it.
    if (problem.body.code === 'ERR_TOO_LARGE' || !req.complete) res.setHeader('Connection', 'close');
    res.status(problem.status).set(problem.headers).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem.body));
  });

  return app;

  /**
   * Runs the handler; a `jtiWithChange` request's jti is recorded by the handler's change, or here
   * when it made none — before the answer, whether the handler answered or failed.
   */
  async function handleRecordingJti(route: RouteSpec, context: RouteContext<unknown, unknown, unknown>): Promise<JsonAnswer | undefined> {
    const jti = context.origin.jti;
    if (jti === undefined) return route.handle(context);
    let answer: JsonAnswer | undefined;
    try {
      answer = await route.handle(context);
    } catch (error) {
      // The handler's own error is the answer; a failure to record the jti as well is only logged.
      await verifier.ensureJtiRecorded(jti).catch((recordError: unknown) => logger.error({ requestId: context.requestId, err: recordError }, 'recording the jti of a failed request failed'));
      throw error;
    }
    await verifier.ensureJtiRecorded(jti);
    return answer;
  }

  /** Authenticates, authorises, rate-limits, reads and validates one request. */
  async function prepare(route: RouteSpec, req: Request, res: Response): Promise<RouteContext<unknown, unknown, unknown>> {
    let caller: Member | undefined;
    let origin: AuditOrigin = { actor: 'anonymous', kid: null, proof: null };
    let pending: Awaited<ReturnType<RequestVerifier['verifyHeaders']>> | undefined;
    if (route.access !== 'public') {
      pending = await verifier.verifyHeaders({ authorization: req.headers.authorization, method: req.method, target: req.originalUrl });
      caller = pending.member;
      locals(res).member = caller.id;
      origin = { actor: caller.id, kid: pending.kid, proof: pending.token };
      assertRole(caller, route.access);
      // A replayed token costs its member nothing: refused before the rate limit charges it.
      verifier.assertNotKnownReplay(pending);
      rateLimiter.take(caller.id);
    }
    const params = parseWith(route.params, req.params, 'The path');
    const query = parseWith(route.query, req.query, 'The query');
    let body: unknown;
    if (route.streamedBody) {
      // Read by the handler as it arrives, under the NDJSON limit; verified once read.
      assertContentType(req, route.streamedBody.mediaTypes);
      const raw = streamRawBody(req, config.ndjsonBodyLimitBytes);
      const streamed: StreamedBody = {
        chunks: raw.chunks,
        verify: async () => {
          if (pending) await verifier.verifyBody(pending, raw.digest(), 'store');
        },
      };
      return { params, query, body: streamed, caller, origin, requestId: locals(res).requestId, req, res };
    }
    const hasBody = route.body !== undefined;
    if (announcesBody(req)) {
      if (!hasBody) throw new InputError('ERR_VALIDATION', `${req.method} ${route.path} takes no body`);
      // Before the jti is consumed: the media type is not signed, so a corrected retry may reuse the token.
      assertJsonContentType(req);
    }
    const raw = await readRawBody(req, hasBody ? config.jsonBodyLimitBytes : 0);
    if (pending) {
      const keeping = req.method === 'GET' ? 'memory' : route.jtiWithChange ? 'with-change' : 'store';
      const jti = await verifier.verifyBody(pending, raw.digest, keeping);
      if (keeping === 'with-change') origin = { ...origin, jti };
    }
    if (hasBody) {
      if (raw.bytes.length === 0) throw new InputError('ERR_VALIDATION', 'This call needs a JSON body');
      body = parseWith(route.body, parseJsonBody(raw.bytes), 'The body');
    }
    return { params, query, body, caller, origin, requestId: locals(res).requestId, req, res };
  }
}

function parseWith(schema: RouteSpec['query'], value: unknown, what: string): unknown {
  if (schema === undefined) return value;
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success) throw validationError(parsed.error.issues, [], what);
  return parsed.data;
}

/** Errors raised by express itself (a malformed URL, …) as coded errors. */
function fromFrameworkError(error: unknown): unknown {
  const status = typeof error === 'object' && error !== null ? (error as { status?: unknown }).status : undefined;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new InputError('ERR_VALIDATION', 'The request is malformed (check the URL encoding)');
  }
  return error;
}
