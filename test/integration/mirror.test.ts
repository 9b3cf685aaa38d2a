/**
 * A mirror built from the change feed equals the bank: a seeded random run of submits,
 * re-submits, retractions (down to the last submitter and back), opinions and disputes against
 * the real server, synced at random points; at every sync each signal the run touched is compared
 * through the API with the mirror, and at the end match answers from the mirror (the offline
 * matcher) are compared with the online ones for several limits, with and without disputed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeededRandom } from '../../bench/lib/seeded-random.js';
import { MirrorDb } from '../../src/client/mirror/mirror-db.js';
import { MirrorMatcher } from '../../src/client/mirror/mirror-matcher.js';
import { syncMirror } from '../../src/client/mirror/sync-mirror.js';
import type { FeedChange, MatchRequestQuery, SubmitItem } from '../../src/client/signalbank-client.js';
import { isSignalbankError } from '../../src/errors.js';
import { startTestService, type TestMember, type TestService } from '../support/test-service.js';

const SEED = Number(process.env['MIRROR_TEST_SEED'] ?? 20261129);
const STEPS = 300;

let t: TestService;
let dir: string;
let submitters: TestMember[];
let matchers: TestMember[];
let sync: TestMember;

beforeAll(async () => {
  t = await startTestService();
  dir = mkdtempSync(join(tmpdir(), 'sb-mirror-'));
  submitters = [await t.member('sub-a', ['submitter']), await t.member('sub-b', ['submitter']), await t.member('sub-c', ['submitter', 'matcher'])];
  matchers = [await t.member('match-a', ['matcher']), await t.member('match-b', ['matcher']), submitters[2]!];
  sync = await t.member('mirror-co', ['sync']);
});
afterAll(async () => {
  await t?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** Near-duplicate PDQ hashes around a few random bases (so matches have several hits and ties), and a few MD5s. */
function hashPool(random: SeededRandom): { pdq: string[]; md5: string[] } {
  const pdq: string[] = [];
  for (let b = 0; b < 6; b++) {
    const base = new Uint8Array(32);
    for (let i = 0; i < 32; i++) base[i] = random.below(256);
    for (let v = 0; v < 6; v++) {
      const variant = Uint8Array.from(base);
      const flips = v === 0 ? 0 : 1 + random.below(20);
      for (let f = 0; f < flips; f++) variant[random.below(32)]! ^= 1 << random.below(8);
      pdq.push(hex(variant));
    }
  }
  const md5 = Array.from({ length: 4 }, () => hex(Uint8Array.from({ length: 16 }, () => random.below(256))));
  return { pdq: [...new Set(pdq)], md5 };
}

const pick = <T>(random: SeededRandom, list: readonly T[]): T => list[random.below(list.length)]!;

async function tolerate(run: () => Promise<unknown>, codes: readonly string[]): Promise<boolean> {
  try {
    await run();
    return true;
  } catch (error) {
    if (isSignalbankError(error) && codes.includes(error.code)) return false;
    throw error;
  }
}

/** Every signal the run created, as members see it, compared with the mirror; answers how many are live. */
async function expectMirrorEqualsBank(mirror: MirrorDb, ids: ReadonlySet<string>): Promise<number> {
  let live = 0;
  for (const id of ids) {
    const { mine: _mine, ...signal } = await sync.client.getSignal(id);
    if (signal['status'] === 'retracted') {
      expect(mirror.get(id), `retracted ${id} is not mirrored`).toBeUndefined();
    } else {
      live++;
      expect(mirror.get(id), `signal ${id}`).toEqual(signal);
    }
  }
  expect(mirror.size()).toBe(live);
  return live;
}

describe('a mirror synced from the change feed', () => {
  it(`equals the bank after a random run (seed ${SEED})`, async () => {
    const random = new SeededRandom(SEED);
    const pool = hashPool(random);
    const ids = new Set<string>();
    const mirror = MirrorDb.open(join(dir, 'mirror.db'), { create: true });
    const categories = ['suicide', 'self_harm'];
    const modifiers = ['graphic', 'instructional', 'promotional', 'challenge'];
    const item = (): SubmitItem => {
      const labels = [pick(random, categories), ...(random.unit() < 0.5 ? [pick(random, modifiers)] : [])];
      const media = random.unit() < 0.8 ? 'image' : 'video';
      if (random.unit() < 0.15) return { type: 'md5', hash: pick(random, pool.md5), labels, media };
      return { type: 'pdq', hash: pick(random, pool.pdq), labels, media, quality: 90 };
    };
    let syncs = 0;
    for (let step = 0; step < STEPS; step++) {
      const roll = random.unit();
      if (roll < 0.4) {
        const member = pick(random, submitters);
        const answer = await member.client.submit(Array.from({ length: 1 + random.below(4) }, item));
        for (const result of answer.results) if (result.id) ids.add(result.id);
      } else if (roll < 0.65 && ids.size > 0) {
        await tolerate(() => pick(random, submitters).client.retract(pick(random, [...ids])), ['ERR_NOT_FOUND']);
      } else if (roll < 0.9 && ids.size > 0) {
        const verdict = pick(random, ['confirm', 'false_positive', 'false_positive', 'dispute_labels']);
        const opinion = verdict === 'dispute_labels' ? { verdict, labels: [pick(random, categories)], reason: 'labels differ' } : { verdict };
        await tolerate(() => pick(random, [...matchers, ...submitters]).client.setOpinion(pick(random, [...ids]), opinion), ['ERR_CONFLICT']);
      } else {
        await syncMirror(sync.client, mirror, { pageSize: 1 + random.below(40) });
        await expectMirrorEqualsBank(mirror, ids);
        syncs++;
      }
    }
    const summary = await syncMirror(sync.client, mirror);
    expect(summary.cursor).toBe((await sync.client.changes(0, 1)).lastSeq);
    const live = await expectMirrorEqualsBank(mirror, ids);
    expect(syncs).toBeGreaterThan(5);

    // The run covered what it claims to: deletes, and signals that came back after one.
    const changes: FeedChange[] = [];
    for (let after = 0; ; ) {
      const page = await sync.client.changes(after);
      changes.push(...page.changes);
      after = page.next;
      if (!page.hasMore) break;
    }
    const deleted = new Set<string>();
    let revived = 0;
    for (const change of changes) {
      if (change.op === 'delete') deleted.add(change.signal.id);
      else if (deleted.has(change.signal.id)) revived++;
    }
    expect(deleted.size).toBeGreaterThan(3);
    expect(revived).toBeGreaterThan(3);
    expect(changes.some((c) => c.op === 'upsert' && c.signal.status === 'disputed')).toBe(true);
    expect(live).toBeGreaterThan(5);

    // Offline match answers equal the online ones.
    const offline = await MirrorMatcher.open(mirror);
    try {
      const queries: MatchRequestQuery[] = [...pool.pdq.map((hash) => ({ type: 'pdq', hash })), ...pool.md5.map((hash) => ({ type: 'md5', hash })), { type: 'pdq', hash: pool.pdq[0]!, maxDistance: 8 }, { type: 'pdq', hash: 'zz' }, { type: 'pdq', hash: pool.pdq[1]!, maxDistance: 99 }, { type: 'md5', hash: pool.md5[0]!, maxDistance: 3 }, { type: 'nope', hash: pool.md5[0]! }];
      let hits = 0;
      for (const includeDisputed of [false, true]) {
        for (const limit of [1, 3, 10]) {
          const online = await matchers[0]!.client.match(queries, { limit, includeDisputed });
          const local = await offline.answer(queries, { limit, includeDisputed });
          expect(local, `limit ${limit}, includeDisputed ${includeDisputed}`).toEqual(online.results);
          for (const result of online.results) if ('matches' in result) hits += result.matches.length;
        }
      }
      expect(hits).toBeGreaterThan(50);
    } finally {
      await offline.close();
      mirror.close();
    }
  });

  it('refuses to open a file that is not a mirror, and to match against a mirror that is not there', async () => {
    expect(() => MirrorDb.open(join(dir, 'none.db'), { create: false })).toThrow(expect.objectContaining({ code: 'ERR_NOT_FOUND' }) as Error);
    expect(() => MirrorDb.open(t.dbPath, { create: true })).toThrow(expect.objectContaining({ code: 'ERR_SCHEMA_MISMATCH' }) as Error);
  });

  it('applies a page read twice only once, and refuses a feed that goes backwards', async () => {
    const mirror = MirrorDb.open(join(dir, 'twice.db'), { create: true });
    try {
      const page = await sync.client.changes(0, 20);
      expect(mirror.applyPage(page.changes, page.next).upserts + mirror.applyPage([], page.next).deletes).toBeGreaterThan(0);
      const again = mirror.applyPage(page.changes, page.next);
      expect(again).toEqual({ upserts: 0, deletes: 0 });
      expect(mirror.cursor()).toBe(page.next);
      const [a, b] = (await sync.client.changes(page.next, 2)).changes;
      const before = [...mirror.signals()];
      expect(() => mirror.applyPage([b!, a!], b!.seq)).toThrow(expect.objectContaining({ code: 'ERR_UPSTREAM' }));
      expect([...mirror.signals()]).toEqual(before);
      expect(mirror.cursor()).toBe(page.next);
    } finally {
      mirror.close();
    }
  });
});
