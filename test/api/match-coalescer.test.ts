import { describe, expect, it } from 'vitest';
import type { ItemResult, Match, MatchOptions, ValidQuery } from '../../src/bank/bank.js';
import { InputError } from '../../src/errors.js';
import { MatchCoalescer } from '../../src/api/match-coalescer.js';

const query = (n: number): ValidQuery => ({ type: 'pdq', hash: n.toString(16).padStart(64, '0'), maxDistance: 31 });
const options: MatchOptions = { limit: 10, includeDisputed: false };

/** A bank whose `match` records each call and answers each query with its own hash as the one match's signal id. */
function recordingBank(fail?: (options: MatchOptions) => boolean) {
  const calls: { hashes: string[]; options: MatchOptions }[] = [];
  return {
    calls,
    async match(queries: readonly ItemResult<ValidQuery>[], callOptions: MatchOptions): Promise<ItemResult<Match[]>[]> {
      calls.push({ hashes: queries.map((q) => (q.ok ? q.value.hash : '?')), options: callOptions });
      if (fail?.(callOptions)) throw new InputError('ERR_VALIDATION', 'refused');
      return queries.map((q) => ({ ok: true, value: [{ signal: { id: q.ok ? q.value.hash : '?' }, distance: 0 } as unknown as Match] }));
    },
  };
}

const answeredId = (result: ItemResult<Match[]>): string => (result.ok ? (result.value[0]?.signal as unknown as { id: string }).id : result.error.code);

describe('MatchCoalescer', () => {
  it('answers a query alone in its turn with a batch of one', async () => {
    const bank = recordingBank();
    const coalescer = new MatchCoalescer(bank);
    expect(answeredId(await coalescer.match(query(1), options))).toBe(query(1).hash);
    expect(answeredId(await coalescer.match(query(2), options))).toBe(query(2).hash);
    expect(bank.calls.map((c) => c.hashes.length)).toEqual([1, 1]);
  });

  it('batches the queries of one turn by options, each getting its own answer', async () => {
    const bank = recordingBank();
    const coalescer = new MatchCoalescer(bank);
    const other: MatchOptions = { limit: 1, includeDisputed: false };
    const answers = await Promise.all([coalescer.match(query(1), options), coalescer.match(query(2), other), coalescer.match(query(3), options)]);
    expect(answers.map(answeredId)).toEqual([query(1).hash, query(2).hash, query(3).hash]);
    expect(bank.calls).toEqual([
      { hashes: [query(1).hash, query(3).hash], options },
      { hashes: [query(2).hash], options: other },
    ]);
  });

  it('refuses only the queries of the batch that failed', async () => {
    const bank = recordingBank((o) => o.limit === 1);
    const coalescer = new MatchCoalescer(bank);
    const settled = await Promise.allSettled([coalescer.match(query(1), { limit: 1, includeDisputed: false }), coalescer.match(query(2), options)]);
    expect(settled[0]).toMatchObject({ status: 'rejected', reason: { code: 'ERR_VALIDATION' } });
    expect(settled[1].status === 'fulfilled' && answeredId(settled[1].value)).toBe(query(2).hash);
  });
});
