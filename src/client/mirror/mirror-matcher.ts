/**
 * Offline matching against a mirror (`match --mirror`): builds the same Hamming indexes the
 * service builds (`createHammingIndex`) from the mirror's signals and answers through the same
 * `SignalMatcher`, so sorting, limits, ties and the disputed filter are the online answer's.
 */
import { checkMatchQuery } from '../../api/match-query.js';
import { matchJson } from '../../api/representations.js';
import { DEFAULT_MATCH_LIMIT, itemResult, SignalMatcher, type ItemResult, type Match, type MatchOptions, type ValidQuery } from '../../bank/signal-matcher.js';
import { createHammingIndex } from '../../index/create-hamming-index.js';
import type { MatchAnswer, MatchHit } from '../signalbank-client.js';
import type { MirrorDb } from './mirror-db.js';

export class MirrorMatcher {
  private constructor(
    private readonly mirror: MirrorDb,
    private readonly matcher: SignalMatcher,
  ) {}

  static async open(mirror: MirrorDb): Promise<MirrorMatcher> {
    const matcher = await SignalMatcher.build(() => createHammingIndex(), (type) => mirror.indexEntries(type));
    return new MirrorMatcher(mirror, matcher);
  }

  /**
   * Answers raw queries as `POST /v1/match` answers them: each checked on its own (a refused one
   * gets `{error}` in its place), matches in the service's JSON form.
   */
  async answer(queries: readonly unknown[], options: { limit?: number | undefined; includeDisputed?: boolean | undefined }): Promise<MatchAnswer['results']> {
    const checked = queries.map((raw, i) => itemResult(() => checkMatchQuery(raw, i)));
    const results = await this.match(checked, { limit: options.limit ?? DEFAULT_MATCH_LIMIT, includeDisputed: options.includeDisputed ?? false });
    return results.map((result) => (result.ok ? { matches: result.value.map(matchJson) as unknown as MatchHit[] } : { error: result.error.toItemError() }));
  }

  match(queries: readonly ItemResult<ValidQuery>[], options: MatchOptions): Promise<ItemResult<Match[]>[]> {
    return this.matcher.match(queries, options, {
      findExact: async (type, hash) => this.mirror.findExact(type, hash),
      byRowIds: async (rowIds) => this.mirror.byRowIds(rowIds),
    });
  }

  close(): Promise<void> {
    return this.matcher.close();
  }
}
