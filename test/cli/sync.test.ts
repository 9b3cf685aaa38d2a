/**
 * `signalbank sync` and `match --mirror` through the real CLI (child processes) against a real
 * server: a sync killed with SIGKILL several times mid-way resumes from the mirror's own cursor
 * and converges to the same mirror as an uninterrupted one, and offline matching prints exactly
 * what online matching prints.
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeededRandom } from '../../bench/lib/seeded-random.js';
import { hashImage } from '../../src/hashing/hash-image.js';
import { MirrorDb } from '../../src/client/mirror/mirror-db.js';
import { syncMirror } from '../../src/client/mirror/sync-mirror.js';
import type { TestMember } from '../support/test-service.js';
import { jsonLines, PROJECT_ROOT, runCli } from '../support/run-cli.js';
import { startTestService, type TestService } from '../support/test-service.js';

const SIGNALS = 1500;
/** Signals not retracted: the 1,500 less 3 × 30 retracted, plus the photo. */
const LIVE = SIGNALS - 90 + 1;
const PHOTO = join(PROJECT_ROOT, 'fixtures/pdq/bridge-mods/aaa-orig.jpg');
const NEAR_PHOTO = join(PROJECT_ROOT, 'fixtures/pdq/bridge-mods/blur-a-little.jpg');
const NOT_AN_IMAGE = join(PROJECT_ROOT, 'fixtures/pdq/PROVENANCE.md');

let t: TestService;
let hashes: string[];

function envFor(member: TestMember): Record<string, string> {
  const keyPath = join(t.dir, `${member.id}.jwk.json`);
  if (!existsSync(keyPath)) writeFileSync(keyPath, JSON.stringify(member.privateJwk), { mode: 0o600 });
  return { SIGNALBANK_URL: t.service.url, SIGNALBANK_MEMBER: member.id, SIGNALBANK_KEY: keyPath };
}

/** The cursor stored in a mirror file, read on a separate read-only connection (0 before it exists). */
function storedCursor(path: string): number {
  if (!existsSync(path)) return 0;
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare("SELECT value FROM mirror_state WHERE key = 'cursor'").get() as { value: string } | undefined;
    return Number(row?.value ?? 0);
  } catch {
    return 0; // the schema is not there yet
  } finally {
    db.close();
  }
}

/** Starts `sync` in a child process and SIGKILLs it once the mirror's cursor reaches `killAt`. */
async function syncKilledAt(env: Record<string, string>, mirror: string, killAt: number): Promise<number | string> {
  const child = spawn(process.execPath, ['--import', 'tsx', `${PROJECT_ROOT}src/cli/main.ts`, 'sync', '--mirror', mirror, '--page-size', '5', '--json'], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code ?? 'unknown')));
  let done = false;
  void exited.then(() => (done = true));
  while (!done && storedCursor(mirror) < killAt) await new Promise((resolve) => setTimeout(resolve, 3));
  child.kill('SIGKILL');
  return exited;
}

let sync: TestMember;
let matcher: TestMember;

beforeAll(async () => {
  t = await startTestService({}, { realClock: true }); // the CLI signs at real time
  const submitter = await t.member('sub-a', ['submitter']);
  const other = await t.member('sub-b', ['submitter']);
  sync = await t.member('mirror-co', ['sync']);
  matcher = await t.member('match-co', ['matcher']);
  const random = new SeededRandom(7);
  hashes = Array.from({ length: SIGNALS }, () => Buffer.from(Uint8Array.from({ length: 32 }, () => random.below(256))).toString('hex'));
  const items = hashes.map((hash) => ({ type: 'pdq', hash, labels: ['suicide'], media: 'image' as const, quality: 90 }));
  for (let i = 0; i < items.length; i += 500) {
    const answer = await submitter.client.submit(items.slice(i, i + 500));
    // Some signals get a second submitter, some are retracted (deletes in the feed), some disputed.
    const ids = answer.results.map((r) => r.id!);
    await other.client.submit(items.slice(i, i + 50));
    for (const id of ids.slice(100, 130)) await submitter.client.retract(id);
    for (const id of ids.slice(200, 210)) await matcher.client.setOpinion(id, { verdict: 'false_positive' });
  }
  // A photo's own hash, so that matching the file (hashed locally by the CLI) finds it.
  const { pdq } = await hashImage(PHOTO, { types: ['pdq'] });
  await submitter.client.submit([{ type: 'pdq', hash: pdq!.hash, labels: ['self_harm'], media: 'image', quality: pdq!.quality }]);
});
afterAll(async () => t?.stop());

describe('signalbank sync', () => {
  it('killed with SIGKILL mid-way several times, resumes from its cursor and converges to the same mirror', async () => {
    const env = envFor(sync);
    const last = (await sync.client.changes(0, 1)).lastSeq;
    expect(last).toBeGreaterThan(SIGNALS);
    const killed = join(t.dir, 'killed.db');
    const cursors: number[] = [];
    for (const fraction of [0.2, 0.45, 0.7]) {
      expect(await syncKilledAt(env, killed, Math.floor(last * fraction))).toBe('SIGKILL');
      cursors.push(storedCursor(killed));
    }
    // Each kill landed mid-way, and no run lost what an earlier one applied.
    expect(cursors[0]).toBeGreaterThan(0);
    expect(cursors.at(-1)).toBeLessThan(last);
    expect(cursors).toEqual([...cursors].sort((a, b) => a - b));

    const finish = await runCli(['sync', '--mirror', killed, '--json'], { env });
    expect(finish.code).toBe(0);
    const [summary] = jsonLines(finish.stdout);
    expect(summary).toMatchObject({ from: cursors.at(-1), cursor: last, signals: LIVE });
    expect(summary?.['applied']).toBe(Number(summary?.['upserts']) + Number(summary?.['deletes']));
    expect(typeof summary?.['elapsedSeconds']).toBe('number');

    // An uninterrupted sync of the same feed (in this process) gives the same mirror.
    const clean = join(t.dir, 'clean.db');
    const a = MirrorDb.open(killed, { create: false });
    const b = MirrorDb.open(clean, { create: true });
    try {
      expect(await syncMirror(sync.client, b)).toMatchObject({ from: 0, cursor: last, signals: LIVE });
      expect(a.size()).toBe(LIVE);
      expect([...a.signals()]).toEqual([...b.signals()]);
      expect(a.cursor()).toBe(last);
      expect(await syncMirror(sync.client, a)).toMatchObject({ applied: 0, from: last, cursor: last });
    } finally {
      a.close();
      b.close();
    }
  });

  it('match --mirror prints what the online match prints', async () => {
    const mirror = join(t.dir, 'clean.db');
    expect(existsSync(mirror)).toBe(true);
    // Near-duplicates of stored hashes (a few bits flipped), stored ones, retracted and disputed ones.
    const random = new SeededRandom(11);
    const queries = [0, 1, 49, 100, 105, 200, 205, 700, 1400].map((i) => {
      const bytes = Buffer.from(hashes[i]!, 'hex');
      for (let f = random.below(6); f > 0; f--) bytes[random.below(32)]! ^= 1 << random.below(8);
      return bytes.toString('hex');
    });
    const env = envFor(matcher);
    // JSON with a refused query among them (both exit 1), then text with other options.
    for (const extra of [['--json'], ['--include-disputed', '--limit', '2', '--max-distance', '64']]) {
      const args = extra[0] === '--json' ? [...extra, 'nothex', PHOTO, NOT_AN_IMAGE, ...queries] : [...extra, NEAR_PHOTO, ...queries];
      const online = await runCli(['match', ...args], { env });
      const offline = await runCli(['match', '--mirror', mirror, ...args]);
      expect(online.stdout).toBe(offline.stdout);
      expect(online.stdout).toMatch(/match/);
      expect([online.code, offline.code]).toEqual(extra[0] === '--json' ? [1, 1] : [0, 0]);
      if (extra[0] === '--json') {
        const lines = jsonLines(online.stdout);
        expect(lines[1]).toMatchObject({ query: { type: 'pdq', file: PHOTO }, matches: [{ distance: 0, labels: ['self_harm'] }] });
        expect(lines[2]).toMatchObject({ file: NOT_AN_IMAGE, error: { code: 'ERR_UNSUPPORTED_IMAGE' } });
      } else {
        expect(online.stdout).toContain(`${NEAR_PHOTO}: 1 match`);
      }
    }
  });
});
