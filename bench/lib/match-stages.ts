/**
 * Where the time of one `POST /v1/match` (1,000 queries) or one `GET /v1/match` goes: the service's own functions, run
 * in this process over the benchmark database, one stage at a time and in the order the request
 * pipeline (src/api/app.ts, src/api/routes/match-routes.ts) runs them — signature, body digest,
 * jti, JSON parsing, schema validation, the index search, the signal rows from SQLite, the rest of
 * `Bank.match`, and building and serialising the answer. The index search and the row lookup are
 * timed by wrapping the bank's index and store, so `Bank.match` itself runs unchanged. What the
 * stages leave out of the HTTP figure is express, the HTTP parser, logging and metrics.
 */
import { ReplayGuard } from '../../src/auth/replay-guard.js';
import { bodyDigest } from '../../src/auth/request-token.js';
import { RequestVerifier } from '../../src/auth/verify-signed-request.js';
import { configuredIndexFactory } from '../../src/api/service.js';
import { matchJson } from '../../src/api/representations.js';
import { parseJsonBody } from '../../src/api/request-body.js';
import { MatchBodySchema, MatchQueryParamsSchema, MatchQuerySchema } from '../../src/api/schemas.js';
import { Bank, DEFAULT_MATCH_LIMIT, itemResult, type ItemResult, type ValidQuery } from '../../src/bank/bank.js';
import { signRequest } from '../../src/client/sign-request.js';
import { loadConfig } from '../../src/config.js';
import type { HammingIndex } from '../../src/index/hamming-index.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import type { BenchBank } from './bench-bank.js';
import { median } from './bench-report.js';

export interface StageProfile {
  readonly request: ProfiledRequest;
  readonly requests: number;
  readonly stages: { stage: string; ms: number; share: number }[];
  readonly sumMs: number;
  /** Wall time per request the HTTP benchmark measured (1000 / requests per second). */
  readonly httpMsPerRequest: number;
}

/** Accumulates the time spent in wrapped calls. */
class StageClock {
  ms = 0;
  async time<T>(run: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await run();
    } finally {
      this.ms += performance.now() - started;
    }
  }
}

/** The bank's index with `searchMany` and `search` timed. */
function timedIndex(index: HammingIndex, clock: StageClock): HammingIndex {
  return new Proxy(index, {
    get(target, property, receiver) {
      if (property === 'searchMany') return (...args: Parameters<HammingIndex['searchMany']>) => clock.time(() => target.searchMany(...args));
      if (property === 'search') {
        return (...args: Parameters<HammingIndex['search']>) => {
          const started = performance.now();
          try {
            return target.search(...args);
          } finally {
            clock.ms += performance.now() - started;
          }
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** The store with `getSignalsByRowIds` timed. */
function timedStore(store: SqliteStore, clock: StageClock): Store {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'getSignalsByRowIds') return (rowIds: readonly number[]) => clock.time(() => target.getSignalsByRowIds(rowIds));
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

export type ProfiledRequest = 'GET' | 'POST';

/** Stage medians over `requests` requests of the given kind (a few more first, to warm up). */
export async function profileMatchStages(bank: BenchBank, queries: readonly string[], radius: number, kind: ProfiledRequest, httpRequestsPerSecond: number, requests = kind === 'GET' ? 2000 : 24): Promise<StageProfile> {
  const store = SqliteStore.open({ path: bank.dbPath });
  const search = new StageClock();
  const rows = new StageClock();
  const config = loadConfig({}, { dbPath: bank.dbPath });
  const factory = configuredIndexFactory(config);
  const matchBank = await Bank.open(timedStore(store, rows), (type) => timedIndex(factory(type), search));
  const verifier = new RequestVerifier({ store, replay: new ReplayGuard(store), audience: config.audience, clock: Date.now });
  const samples = new Map<string, number[]>();
  const record = (stage: string, ms: number): void => void samples.set(stage, [...(samples.get(stage) ?? []), ms]);
  const warmup = Math.ceil(requests / 10);
  const perRequest = kind === 'GET' ? 1 : 1000;
  try {
    for (let r = -warmup; r < requests; r++) {
      const hashes = Array.from({ length: perRequest }, (_, q) => queries[((r + warmup) * perRequest + q) % queries.length]!);
      const target = kind === 'GET' ? `/v1/match?type=pdq&hash=${hashes[0]!}&maxDistance=${radius}` : '/v1/match';
      const body = kind === 'GET' ? Buffer.alloc(0) : Buffer.from(JSON.stringify({ queries: hashes.map((hash) => ({ type: 'pdq', hash, maxDistance: radius })) }));
      const authorization = await signRequest(bank.matcher, { method: kind, target, body });
      let t = performance.now();
      const lap = (stage: string): void => {
        const now = performance.now();
        if (r >= 0) record(stage, now - t);
        t = now;
      };
      const pending = await verifier.verifyHeaders({ authorization, method: kind, target });
      lap('signature (verifyHeaders)');
      const digest = bodyDigest(body);
      lap('body digest (SHA-256)');
      await verifier.verifyBody(pending, digest, kind === 'GET' ? 'memory' : 'store');
      lap(kind === 'GET' ? 'jti (replay guard, memory)' : 'jti (replay guard, SQLite write)');
      let valid: ItemResult<ValidQuery>[];
      if (kind === 'GET') {
        const query = MatchQueryParamsSchema.parse(Object.fromEntries(new URL(target, 'http://x').searchParams));
        valid = [{ ok: true, value: matchBank.validateQuery(query) }];
        lap('query schema + validateQuery');
      } else {
        const parsed = MatchBodySchema.parse(parseJsonBody(body));
        lap('JSON.parse + envelope schema');
        valid = parsed.queries.map((raw) => itemResult<ValidQuery>(() => matchBank.validateQuery(MatchQuerySchema.parse(raw))));
        lap('query schema + validateQuery');
      }
      search.ms = 0;
      rows.ms = 0;
      const results = await matchBank.match(valid, { limit: DEFAULT_MATCH_LIMIT, includeDisputed: false });
      const matchMs = performance.now() - t;
      t = performance.now();
      if (r >= 0) {
        record(kind === 'GET' ? 'index search (request thread)' : 'index searchMany (worker threads)', search.ms);
        record('signal rows (SQLite getSignalsByRowIds)', rows.ms);
        record('rest of Bank.match (grouping, hex, sort)', matchMs - search.ms - rows.ms);
      }
      const answer = kind === 'GET'
        ? { matches: results[0]?.ok ? results[0].value.map(matchJson) : [] }
        : { results: results.map((result) => (result.ok ? { matches: result.value.map(matchJson) } : { error: result.error.toClientItemError() })) };
      lap('answer objects (matchJson)');
      JSON.stringify(answer);
      lap('JSON.stringify');
    }
  } finally {
    await matchBank.close();
    await store.close();
  }
  const stages = [...samples].map(([stage, values]) => ({ stage, ms: median(values) }));
  const sumMs = stages.reduce((sum, s) => sum + s.ms, 0);
  return { request: kind, requests, stages: stages.map((s) => ({ ...s, share: s.ms / sumMs })), sumMs, httpMsPerRequest: 1000 / httpRequestsPerSecond };
}
