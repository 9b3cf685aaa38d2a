/**
 * Nearest-match lookup over HTTP (SPEC §5): `POST /v1/match` answers up to 1,000 queries, each on
 * its own (a bad query gets an error in its place); `GET /v1/match` answers one (a bad query is a
 * 400). Results are exact, sorted by distance then id, and count submitters without naming them.
 */
import { DEFAULT_MATCH_LIMIT, itemResult, type Bank, type ItemResult, type Match, type ValidQuery } from '../../bank/bank.js';
import type { MatchCounter } from '../../audit/match-counter.js';
import type { ServiceMetrics } from '../metrics.js';
import { MatchCoalescer } from '../match-coalescer.js';
import { checkMatchQuery } from '../match-query.js';
import { matchJson } from '../representations.js';
import { defineRoute, type RouteSpec } from '../route.js';
import { MatchAnswerSchema, MatchBodySchema, MatchQueryParamsSchema, SingleMatchAnswerSchema } from '../schemas.js';

export function matchRoutes(bank: Bank, metrics: ServiceMetrics, counter: MatchCounter): RouteSpec[] {
  const singles = new MatchCoalescer(bank);
  /** Metrics by type, and per-member counts for transparency reports (never the hashes). */
  const count = (memberId: string, queries: readonly ItemResult<ValidQuery>[], results: readonly ItemResult<Match[]>[]): void => {
    let answered = 0;
    let hits = 0;
    queries.forEach((query, i) => {
      const result = results[i];
      if (!query.ok || !result?.ok) return;
      answered++;
      hits += result.value.length;
      metrics.matchQueries.inc({ type: query.value.type });
      if (result.value.length > 0) metrics.matches.inc({ type: query.value.type }, result.value.length);
    });
    counter.count(memberId, answered, hits);
  };

  return [
    defineRoute({
      method: 'POST',
      path: '/v1/match',
      operationId: 'matchBatch',
      summary: 'Match up to 1,000 hashes',
      description: 'results[i] answers queries[i]; a bad query gets {error} in its place and the others are answered.',
      tag: 'match',
      access: ['matcher'],
      body: MatchBodySchema,
      responses: { 200: { description: 'One result per query', schema: MatchAnswerSchema } },
      async handle({ body, caller }) {
        const queries = body.queries.map((raw, i) => itemResult(() => checkMatchQuery(raw, i)));
        const results = await bank.match(queries, { limit: body.limit ?? DEFAULT_MATCH_LIMIT, includeDisputed: body.includeDisputed ?? false });
        count(caller!.id, queries, results);
        return {
          body: {
            results: results.map((result) => {
              if (result.ok) return { matches: result.value.map(matchJson) };
              metrics.rejections.inc({ code: result.error.code });
              return { error: result.error.toClientItemError() };
            }),
          },
        };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/match',
      operationId: 'matchOne',
      summary: 'Match one hash',
      tag: 'match',
      access: ['matcher'],
      query: MatchQueryParamsSchema,
      responses: { 200: { description: 'Matches, nearest first', schema: SingleMatchAnswerSchema } },
      errors: ['ERR_UNKNOWN_TYPE', 'ERR_INVALID_HASH', 'ERR_DEGENERATE_HASH', 'ERR_INVALID_DISTANCE'],
      async handle({ query, caller }) {
        const valid = bank.validateQuery(query);
        const queries = [{ ok: true, value: valid } as const];
        const result = await singles.match(valid, { limit: query.limit ?? DEFAULT_MATCH_LIMIT, includeDisputed: query.includeDisputed ?? false });
        count(caller!.id, queries, [result]);
        if (!result.ok) throw result.error;
        return { body: { matches: result.value.map(matchJson) } };
      },
    }),
  ];
}
