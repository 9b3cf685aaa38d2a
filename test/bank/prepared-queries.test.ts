// A batch prepared a slice at a time (as a job adds its stored blocks) answers exactly like the same
// queries searched at once, and like comparing each query with every row: same hits, same matches,
// refused and exact queries in place — with two index radii, md5 looked up by value, retracted skipped.
import { afterAll, describe, expect, it } from 'vitest';
import { SignalMatcher, type ItemResult, type MatchSource, type ValidQuery } from '../../src/bank/signal-matcher.js';
import { InputError } from '../../src/errors.js';
import { createHammingIndex } from '../../src/index/create-hamming-index.js';
import type { SignalTypeName } from '../../src/signals/signal-type.js';
import type { SignalRecord } from '../../src/store/store.js';
import { flipBits, SeededRandom, toHex, uniformHash } from '../index/seeded-hashes.js';

const SIGNALS = 300;
const random = new SeededRandom(20261207);
const stored = Array.from({ length: SIGNALS }, () => uniformHash(random));
const md5 = 'd41d8cd98f00b204e9800998ecf8427e';

function record(rowId: number, type: SignalTypeName, hash: string, status: SignalRecord['status']): SignalRecord {
  return {
    rowId,
    id: `sig-${String(rowId).padStart(4, '0')}`,
    type,
    hash,
    media: 'image',
    labels: [],
    submitters: 1,
    opinions: { confirm: 0, falsePositive: 0, disputeLabels: 0 },
    status,
    firstSeen: '2026-12-07T00:00:00Z',
    updatedAt: '2026-12-07T00:00:00Z',
  };
}

// Row ids 1..SIGNALS are PDQ signals (every 7th retracted since the search), SIGNALS + 1 is an md5.
const rows = new Map<number, SignalRecord>(stored.map((hash, i) => [i + 1, record(i + 1, 'pdq', toHex(hash), (i + 1) % 7 === 0 ? 'retracted' : 'active')]));
rows.set(SIGNALS + 1, record(SIGNALS + 1, 'md5', md5, 'active'));
const source: MatchSource = {
  findExact: (type, hash) => Promise.resolve([...rows.values()].find((row) => row.type === type && row.hash === hash)),
  byRowIds: (ids) => Promise.resolve(new Map(ids.flatMap((id) => (rows.has(id) ? [[id, rows.get(id)!] as const] : [])))),
};

const matcher = await SignalMatcher.build(
  () => createHammingIndex({ workers: 2, inlineBatchNanos: 0 }),
  (type) => (type === 'pdq' ? [{ ids: Uint32Array.from(stored, (_, i) => i + 1), hashes: Uint8Array.from(stored.flatMap((hash) => [...hash])), disputed: [] }] : []),
);
afterAll(() => matcher.close());

/** Near-duplicates at two radii, misses, an md5 that is stored and one that is not, refused items. */
function queries(): ItemResult<ValidQuery>[] {
  const out: ItemResult<ValidQuery>[] = [];
  for (let i = 0; i < 200; i++) {
    const kind = i % 10;
    if (kind === 3) out.push({ ok: false, error: new InputError('ERR_INVALID_HASH', `line ${i}`) });
    else if (kind === 5) out.push({ ok: true, value: { type: 'md5', hash: i % 20 === 5 ? md5 : 'ffffffffffffffffffffffffffffffff', maxDistance: 0 } });
    else {
      const base = stored[random.below(SIGNALS)]!;
      const hash = kind % 2 === 0 ? flipBits(random, base, random.below(40)) : uniformHash(random);
      out.push({ ok: true, value: { type: 'pdq', hash: toHex(hash), maxDistance: kind < 5 ? 31 : 12 } });
    }
  }
  return out;
}

/** Bits that differ between two hex hashes. */
function distance(a: string, b: string): number {
  let bits = 0;
  for (let i = 0; i < a.length; i += 8) {
    let x = (Number.parseInt(a.slice(i, i + 8), 16) ^ Number.parseInt(b.slice(i, i + 8), 16)) >>> 0;
    while (x !== 0) {
      x &= x - 1;
      bits++;
    }
  }
  return bits;
}

/** What a query must answer, by comparing it with every row: the oracle the matcher is held to. */
function expected(query: ItemResult<ValidQuery>, limit: number): unknown {
  if (!query.ok) return query;
  const { type, hash, maxDistance } = query.value;
  const matches = [...rows.values()]
    .filter((row) => row.type === type && row.status === 'active')
    .map((signal) => ({ signal, distance: type === 'md5' ? (signal.hash === hash ? 0 : Infinity) : distance(signal.hash, hash) }))
    .filter((match) => match.distance <= maxDistance)
    .sort((a, b) => a.distance - b.distance || (a.signal.id < b.signal.id ? -1 : 1));
  return { ok: true, value: matches.slice(0, limit) };
}

describe('PreparedQueries', () => {
  it('searched in slices, answers exactly as searched at once', async () => {
    const all = queries();
    const options = { limit: 3, includeDisputed: false };
    const atOnce = await matcher.search(all, options, source);
    const prepared = matcher.prepare();
    for (const [from, to] of [[0, 1], [1, 4], [4, 77], [77, 200]] as const) prepared.add(all.slice(from, to));
    expect(prepared.queries).toEqual(all);
    const inSlices = await matcher.search(prepared, options, source);
    expect(inSlices.hits).toEqual(atOnce.hits);
    expect(inSlices.exact).toEqual(atOnce.exact);
    const answers = await matcher.resolve(inSlices, source, 0, all.length);
    expect(answers).toEqual(await matcher.resolve(atOnce, source, 0, all.length));
    expect(answers).toEqual(all.map((query) => expected(query, options.limit)));
    // The batch really holds what is checked: hits at both radii, md5 found by value, refusals kept.
    const found = answers.flatMap((answer) => (answer.ok ? answer.value : []));
    expect(found.some((match) => match.distance > 12)).toBe(true);
    expect(found.some((match) => match.signal.type === 'md5')).toBe(true);
    expect(found.every((match) => match.signal.status === 'active')).toBe(true);
    expect(answers.filter((answer) => !answer.ok)).toHaveLength(20);
    expect(answers.filter((answer, i) => answer.ok && all[i]!.ok && all[i]!.value.maxDistance === 12 && answer.value.some((match) => match.distance > 12))).toEqual([]);
  });

  it('searches an empty batch to nothing', async () => {
    const searched = await matcher.search(matcher.prepare(), { limit: 1, includeDisputed: false }, source);
    expect(searched.hits).toEqual([]);
  });
});
