/**
 * Offline matching against a mirror (`match --mirror`): builds the same Hamming indexes the
 * service builds (`createHammingIndex`) from the mirror's signals and answers through the same
 * `SignalMatcher`, so sorting, limits, ties and the disputed filter are the online answer's.
 */
import { SignalMatcher, type ItemResult, type Match, type MatchOptions, type ValidQuery } from '../../bank/signal-matcher.js';
import { createHammingIndex } from '../../index/create-hamming-index.js';
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
