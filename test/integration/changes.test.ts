/**
 * The change feed against the real server (real SQLite file, signed requests): which changes
 * appear, with which op and snapshot, in order; what does not appear (an unchanged re-submission,
 * an opinion on a retracted signal); paging, limits, the ETag and role gating. Every answer is
 * checked against the schema the OpenAPI document is generated from.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangesPageSchema } from '../../src/api/change-schemas.js';
import type { FeedChange, SubmitItem } from '../../src/client/signalbank-client.js';
import { startTestService, type TestMember, type TestService } from '../support/test-service.js';
import { codeOf } from '../support/error-code.js';
import { problemOf } from '../support/problem-answer.js';

const ORIG = 'd8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22';
const FAR = '2707f0331f0b57b0f1c8f5ddfd70980f4c91d12a699dc1e2cc194c63b16364dd';
const MD5 = '9e107d9d372bb6826bd81d3542a419d6';

const pdq = (hash: string, overrides: Partial<SubmitItem> = {}): SubmitItem => ({ type: 'pdq', hash, labels: ['suicide'], media: 'image', quality: 95, ...overrides });

let t: TestService;
let alice: TestMember;
let bob: TestMember;
let carol: TestMember;
let mirror: TestMember;

/** Reads the whole feed after `after` through the API, checking every page against the schema. */
async function feed(after = 0, limit?: number): Promise<FeedChange[]> {
  const all: FeedChange[] = [];
  for (;;) {
    const page = await mirror.client.changes(after, limit);
    ChangesPageSchema.parse({ changes: page.changes, next: page.next, hasMore: page.hasMore });
    all.push(...page.changes);
    after = page.next;
    if (!page.hasMore) return all;
  }
}

/** The signal as members see it, without the caller's own part. */
async function publicView(id: string): Promise<Record<string, unknown>> {
  const { mine: _mine, ...signal } = await mirror.client.getSignal(id);
  return signal;
}

beforeAll(async () => {
  t = await startTestService();
  alice = await t.member('alice', ['submitter']);
  bob = await t.member('bob', ['submitter']);
  carol = await t.member('carol', ['matcher']);
  mirror = await t.member('mirror-co', ['sync']);
});
afterAll(async () => t?.stop());

describe('GET /v1/changes', () => {
  it('records every state change of a signal once, in order, with the public signal as it was', async () => {
    const seen: FeedChange[] = [];
    let cursor = 0;
    /** Runs a step and answers the changes it added to the feed, checking each snapshot against GET. */
    const step = async (run: () => Promise<unknown>): Promise<FeedChange[]> => {
      await run();
      const added = await feed(cursor);
      for (const change of added) if (change.op === 'upsert') expect(change.signal).toEqual(await publicView(change.signal.id));
      seen.push(...added);
      cursor = added.at(-1)?.seq ?? cursor;
      return added;
    };

    const [created] = await step(() => alice.client.submit([pdq(ORIG)]));
    expect(created).toMatchObject({ op: 'upsert', signal: { type: 'pdq', hash: ORIG, submitters: 1, status: 'active', labels: ['suicide'] } });
    const id = created!.signal.id;
    expect(Object.keys(created!.signal)).not.toContain('mine');

    expect(await step(() => alice.client.submit([pdq(ORIG)]))).toEqual([]); // unchanged: nothing
    expect(await step(() => bob.client.submit([pdq(ORIG)]))).toMatchObject([{ op: 'upsert', signal: { id, submitters: 2 } }]);
    expect(await step(() => bob.client.submit([pdq(ORIG, { labels: ['suicide', 'graphic'] })]))).toMatchObject([{ op: 'upsert', signal: { id, labels: ['graphic', 'suicide'] } }]);
    // A changed ref is the member's own business: the public signal did not change.
    expect(await step(() => bob.client.submit([pdq(ORIG, { labels: ['suicide', 'graphic'], ref: 'case-1' })]))).toEqual([]);
    expect(await step(() => alice.client.submit([pdq(ORIG, { media: 'video' })]))).toMatchObject([{ op: 'upsert', signal: { id, media: 'video' } }]);
    expect(await step(() => carol.client.setOpinion(id, { verdict: 'confirm' }))).toMatchObject([{ op: 'upsert', signal: { id, opinions: { confirm: 1 } } }]);
    expect(await step(() => carol.client.setOpinion(id, { verdict: 'false_positive' }))).toMatchObject([{ op: 'upsert', signal: { id, status: 'active', opinions: { confirm: 0, falsePositive: 1 } } }]);
    expect(await step(() => alice.client.retract(id))).toMatchObject([{ op: 'upsert', signal: { id, submitters: 1, status: 'disputed' } }]);
    expect(await step(() => carol.client.setOpinion(id, { verdict: 'confirm' }))).toMatchObject([{ op: 'upsert', signal: { id, status: 'active' } }]);
    const [deleted] = await step(() => bob.client.retract(id));
    expect(deleted).toEqual({ seq: deleted!.seq, op: 'delete', signal: { id, type: 'pdq', hash: ORIG }, at: deleted!.at });
    // An opinion on a retracted signal changes nothing a mirror holds.
    expect(await step(() => carol.client.setOpinion(id, { verdict: 'false_positive' }))).toEqual([]);
    expect(await step(() => bob.client.submit([pdq(ORIG)]))).toMatchObject([{ op: 'upsert', signal: { id, submitters: 1, status: 'disputed', opinions: { falsePositive: 1 } } }]);
    const batch = await step(() => alice.client.submit([pdq(FAR), { type: 'md5', hash: MD5, labels: ['self_harm'], media: 'image' }, pdq(ORIG)]));
    expect(batch.map((c) => [c.op, c.signal.hash])).toEqual([['upsert', FAR], ['upsert', MD5], ['upsert', ORIG]]);

    const seqs = seen.map((c) => c.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(await feed()).toEqual(seen);
    for (const change of seen) expect(Date.parse(change.at)).not.toBeNaN();
  });

  it('pages with after and limit: next is the last seq returned, or after when the page is empty', async () => {
    const all = await feed();
    expect(all.length).toBeGreaterThan(5);
    const first = await mirror.client.changes(0, 2);
    expect(first).toMatchObject({ changes: all.slice(0, 2), next: all[1]!.seq, hasMore: true, lastSeq: all.at(-1)!.seq });
    expect(await feed(0, 3)).toEqual(all);
    expect(await feed(all[2]!.seq, 1)).toEqual(all.slice(3));
    const end = all.at(-1)!.seq;
    expect(await mirror.client.changes(end)).toMatchObject({ changes: [], next: end, hasMore: false });
    expect(await mirror.client.changes(end + 1000)).toMatchObject({ changes: [], next: end + 1000, hasMore: false });
    const exact = await mirror.client.changes(all.at(-3)!.seq, 2);
    expect(exact).toMatchObject({ changes: all.slice(-2), hasMore: false });
  });

  it('refuses bad cursors and limits, and callers without the sync role', async () => {
    for (const query of ['limit=0', 'limit=10001', 'after=-1', 'after=x', 'limit=1.5', 'other=1']) {
      expect(await codeOf(mirror.client.request('GET', `/v1/changes?${query}`)), query).toBe('ERR_VALIDATION');
    }
    expect((await mirror.client.changes(0, 10_000)).changes.length).toBeGreaterThan(0);
    expect(await codeOf(alice.client.changes(0))).toBe('ERR_FORBIDDEN');
    expect(await codeOf(carol.client.changes(0))).toBe('ERR_FORBIDDEN');
    expect(await codeOf(t.admin.client.changes(0))).toBe('ERR_FORBIDDEN');
    expect(await problemOf(await fetch(`${t.service.url}/v1/changes`))).toEqual({ status: 401, code: 'ERR_AUTH_MISSING' });
  });

  it('answers 304 to If-None-Match while the page is unchanged, and the new page once a change lands', async () => {
    const end = (await feed()).at(-1)!.seq;
    const target = `/v1/changes?after=${end}`;
    const first = await mirror.client.send('GET', target);
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^".+"$/);
    const { signRequest } = await import('../../src/client/sign-request.js');
    const conditional = async () =>
      fetch(`${t.service.url}${target}`, { headers: { authorization: await signRequest(mirror.key, { method: 'GET', target }, { now: t.now }), 'if-none-match': etag } });
    const unchanged = await conditional();
    expect(unchanged.status).toBe(304);
    expect(await unchanged.text()).toBe('');
    await alice.client.submit([pdq(ORIG.replace('d8', '18'))]);
    const changed = await conditional();
    expect(changed.status).toBe(200);
    expect(((await changed.json()) as { changes: unknown[] }).changes).toHaveLength(1);
  });

  it('is documented in the OpenAPI document with its role', async () => {
    const doc = (await (await fetch(`${t.service.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { 'x-roles': unknown }>>; components: { schemas: Record<string, unknown> } };
    expect(doc.paths['/v1/changes']?.['get']?.['x-roles']).toEqual(['sync']);
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['Change', 'ChangesPage', 'FeedSignal', 'DeletedSignal']));
  });
});
