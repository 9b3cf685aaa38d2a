/**
 * A small client for the signalbank API, used by the CLI, the tests and library users: it signs
 * every request with the member's key (fresh jti each time), sends it, and turns problem JSON
 * answers back into `SignalbankError`s carrying the server's code, so callers handle a remote
 * failure exactly like a local one.
 */
import type { JobView } from '../jobs/job-service.js';
import { ERROR_CATALOGUE, OperationError, SignalbankError, type ErrorCode, type FieldError } from '../errors.js';
import { signRequest, type SignOptions, type SigningKey } from './sign-request.js';
import { spoolNdjson, type JobInput } from './spooled-body.js';

export interface ClientOptions {
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  readonly baseUrl: string;
  readonly key: SigningKey;
  readonly audience?: string;
  /** Milliseconds since the epoch, for signing. */
  readonly clock?: () => number;
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface SubmitItem {
  readonly type: string;
  readonly hash: string;
  readonly labels: readonly string[];
  readonly media: 'image' | 'video';
  readonly quality?: number;
  readonly ref?: string;
}

export interface MatchRequestQuery {
  readonly type: string;
  readonly hash: string;
  readonly maxDistance?: number;
}

export interface ItemError {
  readonly code: string;
  readonly message: string;
}

export interface SubmitAnswer {
  readonly results: { status: 'created' | 'added' | 'updated' | 'unchanged' | 'rejected'; id?: string; error?: ItemError }[];
}

export interface MatchHit {
  readonly id: string;
  readonly type: string;
  readonly hash: string;
  readonly distance: number;
  readonly media: string;
  readonly labels: string[];
  readonly submitters: number;
  readonly status: string;
  readonly opinions: { confirm: number; falsePositive: number; disputeLabels: number };
}

/** A batch job as `GET /v1/jobs/{id}` shows it (the service's own view type). */
export type JobStatus = JobView;

export interface MatchAnswer {
  readonly results: ({ matches: MatchHit[] } | { error: ItemError })[];
}

/** A signal as the change feed carries it: the member-facing form, or `{id, type, hash}` in a delete. */
export interface FeedSignal {
  readonly id: string;
  readonly type: string;
  readonly hash: string;
  readonly media: string;
  readonly labels: string[];
  readonly submitters: number;
  readonly opinions: { confirm: number; falsePositive: number; disputeLabels: number };
  readonly status: string;
  readonly firstSeen: string;
  readonly updatedAt: string;
}

export type FeedChange =
  | { readonly seq: number; readonly op: 'upsert'; readonly signal: FeedSignal; readonly at: string }
  | { readonly seq: number; readonly op: 'delete'; readonly signal: { id: string; type: string; hash: string }; readonly at: string };

export interface ChangesPage {
  readonly changes: FeedChange[];
  readonly next: number;
  readonly hasMore: boolean;
  /** The newest seq of the feed when the page was read (the `Signalbank-Last-Seq` header). */
  readonly lastSeq: number;
}

const encoder = new TextEncoder();

/** Builds `path?query` with the parameters in the given order (the signed `htu` must match). */
export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) params.append(name, String(value));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export class SignalbankClient {
  readonly baseUrl: string;

  constructor(private readonly options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  get memberId(): string {
    return this.options.key.memberId;
  }

  /** Sends a signed request and answers status, headers and parsed body, whatever the status. */
  async send(method: string, target: string, body?: unknown, sign: SignOptions = {}): Promise<RawResponse> {
    const bytes = body === undefined ? undefined : body instanceof Uint8Array ? body : encoder.encode(JSON.stringify(body));
    let response: Response | undefined;
    for (let attempt = 0; response === undefined; attempt++) {
      // Each attempt is signed anew: a jti is never sent twice.
      const authorization = await signRequest(this.options.key, { method, target, body: bytes }, { audience: this.options.audience ?? 'signalbank', now: (this.options.clock ?? Date.now)(), ...sign });
      const headers: Record<string, string> = { authorization };
      if (bytes !== undefined) headers['content-type'] = 'application/json';
      try {
        response = await fetch(`${this.baseUrl}${target}`, { method, headers, ...(bytes !== undefined && { body: bytes }) });
      } catch (error) {
        // A kept-alive connection the server closed (a restart) fails before any answer: retry once on a new one.
        if (attempt === 0 && isStaleConnection(error)) continue;
        throw new OperationError('ERR_UNAVAILABLE', `Cannot reach ${this.baseUrl}: ${describeFetchError(error)}`, { cause: error });
      }
    }
    const text = await response.text();
    let parsed: unknown = text;
    if ((response.headers.get('content-type') ?? '').includes('json') && text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    return { status: response.status, headers: response.headers, body: parsed };
  }

  /** Sends a signed GET and answers the streaming response of a 2xx answer (exports); throws the coded error otherwise. */
  async stream(target: string): Promise<Response> {
    const authorization = await signRequest(this.options.key, { method: 'GET', target }, { audience: this.options.audience ?? 'signalbank', now: (this.options.clock ?? Date.now)() });
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${target}`, { headers: { authorization } });
    } catch (error) {
      throw new OperationError('ERR_UNAVAILABLE', `Cannot reach ${this.baseUrl}: ${describeFetchError(error)}`, { cause: error });
    }
    if (response.ok) return response;
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: keep the text.
    }
    throw errorFromAnswer({ status: response.status, headers: response.headers, body });
  }

  /** Sends a signed request; answers the body of a 2xx answer or throws the server's coded error. */
  async request<T>(method: string, target: string, body?: unknown): Promise<T> {
    const answer = await this.send(method, target, body);
    if (answer.status >= 200 && answer.status < 300) return answer.body as T;
    throw errorFromAnswer(answer);
  }

  submit(signals: readonly SubmitItem[]): Promise<SubmitAnswer> {
    return this.request('POST', '/v1/signals', { signals });
  }

  match(queries: readonly MatchRequestQuery[], options: { limit?: number; includeDisputed?: boolean } = {}): Promise<MatchAnswer> {
    return this.request('POST', '/v1/match', { queries, ...options });
  }

  matchOne(query: MatchRequestQuery & { limit?: number; includeDisputed?: boolean }): Promise<{ matches: MatchHit[] }> {
    return this.request('GET', withQuery('/v1/match', { ...query }));
  }

  getSignal(id: string): Promise<Record<string, unknown>> {
    return this.request('GET', `/v1/signals/${encodeURIComponent(id)}`);
  }

  findSignal(type: string, hash: string): Promise<Record<string, unknown>> {
    return this.request('GET', withQuery('/v1/signals', { type, hash }));
  }

  retract(id: string): Promise<Record<string, unknown>> {
    return this.request('DELETE', `/v1/signals/${encodeURIComponent(id)}/submission`);
  }

  setOpinion(id: string, opinion: { verdict: string; labels?: string[]; reason?: string }): Promise<Record<string, unknown>> {
    return this.request('POST', `/v1/signals/${encodeURIComponent(id)}/opinions`, opinion);
  }

  /**
   * Starts a batch job from queries (objects), NDJSON lines (strings) or raw NDJSON bytes. The
   * body is spooled to a temporary file while its digest is computed — memory stays constant —
   * then streamed to the server, which answers once the job is durable.
   */
  async createJob(input: JobInput, options: { limit?: number } = {}): Promise<JobStatus> {
    const target = withQuery('/v1/jobs', { limit: options.limit });
    const spooled = await spoolNdjson(input);
    try {
      const authorization = await signRequest(this.options.key, { method: 'POST', target, bodyDigest: spooled.digest }, { audience: this.options.audience ?? 'signalbank', now: (this.options.clock ?? Date.now)() });
      let response: Response;
      try {
        response = await fetch(`${this.baseUrl}${target}`, {
          method: 'POST',
          headers: { authorization, 'content-type': 'application/x-ndjson', 'content-length': String(spooled.size) },
          body: spooled.stream(),
          duplex: 'half',
        });
      } catch (error) {
        throw new OperationError('ERR_UNAVAILABLE', `Cannot reach ${this.baseUrl}: ${describeFetchError(error)}`, { cause: error });
      }
      const text = await response.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Not JSON: keep the text.
      }
      if (response.status !== 202) throw errorFromAnswer({ status: response.status, headers: response.headers, body });
      return body as JobStatus;
    } finally {
      await spooled.remove();
    }
  }

  jobStatus(id: string): Promise<JobStatus> {
    return this.request('GET', `/v1/jobs/${encodeURIComponent(id)}`);
  }

  listJobs(): Promise<{ jobs: JobStatus[] }> {
    return this.request('GET', '/v1/jobs');
  }

  cancelJob(id: string): Promise<JobStatus> {
    return this.request('DELETE', `/v1/jobs/${encodeURIComponent(id)}`);
  }

  /** The NDJSON result lines of a finished job, as a byte stream (nothing is buffered). */
  async jobResults(id: string): Promise<AsyncIterable<Uint8Array>> {
    const response = await this.stream(`/v1/jobs/${encodeURIComponent(id)}/results`);
    if (response.body === null) return (async function* () {})();
    return response.body;
  }

  /** One page of the change feed after the cursor `after` (sync role). */
  async changes(after: number, limit?: number): Promise<ChangesPage> {
    const answer = await this.send('GET', withQuery('/v1/changes', { after, limit }));
    if (answer.status !== 200) throw errorFromAnswer(answer);
    const page = answer.body as Omit<ChangesPage, 'lastSeq'>;
    const lastSeq = Number(answer.headers.get('signalbank-last-seq') ?? page.next);
    return { ...page, lastSeq: Number.isSafeInteger(lastSeq) ? lastSeq : page.next };
  }

  taxonomy(): Promise<{ labels: { name: string; kind: string; description: string }[] }> {
    return this.request('GET', '/v1/taxonomy');
  }
}

function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? error.cause.message : error.message;
}

function isStaleConnection(error: unknown): boolean {
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  return cause?.code === 'UND_ERR_SOCKET' || cause?.code === 'ECONNRESET';
}

/** The coded error a non-2xx answer carries (problem JSON), or `ERR_UPSTREAM`. */
export function errorFromAnswer(answer: RawResponse): SignalbankError {
  const body = answer.body as { code?: unknown; detail?: unknown; errors?: unknown } | undefined;
  const code = typeof body?.code === 'string' && Object.hasOwn(ERROR_CATALOGUE, body.code) ? (body.code as ErrorCode) : undefined;
  const detail = typeof body?.detail === 'string' ? body.detail : `The server answered ${answer.status}`;
  const errors = Array.isArray(body?.errors) ? (body.errors as FieldError[]) : undefined;
  // The answer is kept as the cause: status, headers and body of what the server said.
  return new SignalbankError(code ?? 'ERR_UPSTREAM', detail, { cause: answer, ...(errors && { errors }) });
}
