/**
 * Crash safety: `signalbank serve` runs as a child process while members send signed batch
 * submits, retractions and opinions and an auditor takes checkpoints; the server is killed with
 * SIGKILL at seeded random moments and restarted on the same file. After every restart:
 *  - `PRAGMA integrity_check` is ok and the store's invariants hold (no signal without its
 *    submission, no submission, retraction or opinion without its audit entry, no audit entry
 *    without its change, aggregates equal to what the rows say, seqs without gaps);
 *  - every acknowledged item, retraction and opinion is there, through the API;
 *  - a batch that was in flight is all-or-nothing (the store commits a request in one
 *    transaction): either every item of it is in the bank with exactly one audit entry, or none;
 *  - the signal log verifies (`verifyLog`, as `audit verify` runs it) and its new checkpoint is
 *    consistent with the last checkpoint handed out before the kill.
 * One round also runs `signalbank backup` during the load and the kill; the copy is checked the
 * same way and its log verified by a service started on it.
 * CRASH_ROUNDS (default 20) and CRASH_SEED set the size and the moments (`npm run stress` runs 100).
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SeededRandom } from '../../bench/lib/seeded-random.js';
import { verifyLog } from '../../src/audit/verify-log.js';
import { generateMemberKeyPair } from '../../src/auth/member-keys.js';
import { auditLogSource } from '../../src/client/audit-log-source.js';
import { loadSigningKey, signingKeyFromJwk, type SigningKey } from '../../src/client/sign-request.js';
import { SignalbankClient, type SubmitItem } from '../../src/client/signalbank-client.js';
import type { Checkpoint } from '../../src/store/store.js';
import { runCli } from '../support/run-cli.js';
import { startServeProcess, type ServeProcess } from '../support/serve-process.js';

const ROUNDS = Number(process.env['CRASH_ROUNDS'] ?? 20);
const SEED = Number(process.env['CRASH_SEED'] ?? 20_261_129);
const BACKUP_ROUND = Math.min(3, ROUNDS - 1);
const SERVE_ENV = { SIGNALBANK_RATE_LIMIT_PER_SECOND: '0', SIGNALBANK_LOG_LEVEL: 'info', SIGNALBANK_CHECKPOINT_EVERY_MS: '1000' };

const dir = mkdtempSync(join(tmpdir(), 'sb-crash-'));
const dbPath = join(dir, 'bank.db');
/** Every server started, so that none outlives a failed or timed-out test. */
const started: ServeProcess[] = [];
async function start(db: string, env: Record<string, string>): Promise<ServeProcess> {
  const server = await startServeProcess(['--db', db], env);
  started.push(server);
  return server;
}
afterAll(() => {
  for (const server of started) if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const random = new SeededRandom(SEED);

/** A random 256-bit hash (never degenerate in practice: about 128 bits set). */
function randomHash(): string {
  const words = new Uint32Array(8);
  random.fill(words);
  return Buffer.from(words.buffer).toString('hex');
}

interface World {
  /** Acknowledged submissions: hash → {id, member}. */
  readonly acked: Map<string, { id: string; member: string }>;
  /** Batches whose answer never came: all-or-nothing. */
  readonly inDoubtBatches: { member: string; hashes: string[] }[];
  /** Acknowledged retractions (signal ids) and those whose answer never came. */
  readonly retracted: Set<string>;
  readonly retractInDoubt: Set<string>;
  /** Opinions by bob: signal id → verdict (acknowledged), and those in doubt. */
  readonly opinions: Map<string, string>;
  readonly opinionsInDoubt: Map<string, string>;
  lastCheckpoint: Checkpoint | undefined;
  served: number;
}

interface Keys {
  readonly admin: SigningKey;
  readonly alice: SigningKey;
  readonly bob: SigningKey;
  readonly auditor: SigningKey;
}

const clientFor = (server: ServeProcess, key: SigningKey) => new SignalbankClient({ baseUrl: server.url, key });

async function setUp(server: ServeProcess): Promise<Keys> {
  const admin = await loadSigningKey('admin', join(dir, 'admin.private.jwk.json'));
  const adminClient = clientFor(server, admin);
  const member = async (id: string, roles: string[]): Promise<SigningKey> => {
    await adminClient.request('POST', '/v1/admin/members', { id, name: id, roles });
    const pair = await generateMemberKeyPair();
    const { kid } = await adminClient.request<{ kid: string }>('POST', `/v1/admin/members/${id}/keys`, { jwk: pair.publicJwk });
    return signingKeyFromJwk(id, { ...pair.privateJwk, kid });
  };
  return {
    admin,
    alice: await member('alice', ['submitter', 'matcher']),
    bob: await member('bob', ['submitter', 'matcher']),
    auditor: await member('auditor', ['auditor']),
  };
}

const item = (hash: string): SubmitItem => ({ type: 'pdq', hash, labels: ['suicide'], media: 'image', quality: 90 });

/** An error that leaves the request's outcome unknown (the server died before answering), not an answer. */
function inDoubt(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === 'ERR_UNAVAILABLE' || code === undefined;
}

/** Submits a batch of new hashes; answers false when the answer never came (the batch is then in doubt). */
async function submitBatch(client: SignalbankClient, world: World, size: number): Promise<boolean> {
  const hashes = Array.from({ length: size }, randomHash);
  try {
    const answer = await client.submit(hashes.map(item));
    world.served++;
    answer.results.forEach((result, i) => {
      expect(result.status).toBe('created');
      world.acked.set(hashes[i]!, { id: result.id!, member: client.memberId });
    });
    return true;
  } catch (error) {
    if (!inDoubt(error)) throw error;
    world.inDoubtBatches.push({ member: client.memberId, hashes });
    return false;
  }
}

/** Sends batch submits until `stopped()` or the server dies. */
async function submitLoop(client: SignalbankClient, world: World, stopped: () => boolean): Promise<void> {
  while (!stopped() && (await submitBatch(client, world, 1 + random.below(25))));
}

/** Bob submits now and then, retracts his own acknowledged submissions and gives opinions on alice's. */
async function changeLoop(client: SignalbankClient, world: World, stopped: () => boolean): Promise<void> {
  while (!stopped()) {
    const own = [...world.acked.values()].filter((s) => s.member === client.memberId && !world.retracted.has(s.id) && !world.retractInDoubt.has(s.id));
    const others = [...world.acked.values()].filter((s) => s.member !== client.memberId && !world.opinions.has(s.id) && !world.opinionsInDoubt.has(s.id));
    const choice = random.unit();
    const retract = choice < 0.4 && own.length > 0;
    const target = retract ? own[random.below(own.length)] : choice < 0.8 ? others[random.below(others.length)] : undefined;
    if (!target) {
      if (!(await submitBatch(client, world, 2))) return;
      continue;
    }
    const verdict = random.unit() < 0.5 ? 'confirm' : 'false_positive';
    try {
      if (retract) await client.retract(target.id);
      else await client.setOpinion(target.id, { verdict });
      world.served++;
      if (retract) world.retracted.add(target.id);
      else world.opinions.set(target.id, verdict);
    } catch (error) {
      if (!inDoubt(error)) throw error;
      if (retract) world.retractInDoubt.add(target.id);
      else world.opinionsInDoubt.set(target.id, verdict);
      return;
    }
  }
}

async function checkpointLoop(client: SignalbankClient, world: World, stopped: () => boolean): Promise<void> {
  while (!stopped()) {
    try {
      world.lastCheckpoint = await client.request<Checkpoint>('GET', '/v1/audit/checkpoint');
      world.served++;
    } catch (error) {
      if (!inDoubt(error)) throw error;
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20 + random.below(40)));
  }
}

/**
 * Counts that must all be 0 in a consistent store. They read the audit entries through a TEMP
 * copy keyed by (action, actor, subject): temporary objects live outside the database file.
 */
const INVARIANTS: Record<string, string> = {
  'signals without a submission': 'SELECT count(*) FROM signals s WHERE NOT EXISTS (SELECT 1 FROM submissions WHERE signal_id = s.id)',
  'signals without a change feed row': 'SELECT count(*) FROM signals s WHERE NOT EXISTS (SELECT 1 FROM signal_changes WHERE signal_id = s.id)',
  'submissions without their audit entry': `SELECT count(*) FROM submissions sub JOIN signals s ON s.id = sub.signal_id WHERE NOT EXISTS
    (SELECT 1 FROM temp.entry_keys a WHERE a.action = 'signal.submit' AND a.actor = sub.member_id AND a.subject = s.public_id)`,
  'submit entries without their submission': `SELECT count(*) FROM audit_entries a WHERE a.action = 'signal.submit' AND NOT EXISTS
    (SELECT 1 FROM signals s JOIN submissions sub ON sub.signal_id = s.id WHERE s.public_id = a.subject AND sub.member_id = a.actor)`,
  'retracted submissions without their retract entry': `SELECT count(*) FROM submissions sub JOIN signals s ON s.id = sub.signal_id WHERE sub.status = 'retracted'
    AND NOT EXISTS (SELECT 1 FROM temp.entry_keys a WHERE a.action = 'signal.retract' AND a.actor = sub.member_id AND a.subject = s.public_id)`,
  'retract entries without a retracted submission': `SELECT count(*) FROM audit_entries a WHERE a.action = 'signal.retract' AND NOT EXISTS
    (SELECT 1 FROM signals s JOIN submissions sub ON sub.signal_id = s.id WHERE s.public_id = a.subject AND sub.member_id = a.actor AND sub.status = 'retracted')`,
  'opinions without their entry': `SELECT count(*) FROM opinions o JOIN signals s ON s.id = o.signal_id WHERE NOT EXISTS
    (SELECT 1 FROM temp.entry_keys a WHERE a.action = 'opinion.set' AND a.actor = o.member_id AND a.subject = s.public_id AND a.verdict = o.verdict)`,
  'opinion entries without their opinion': `SELECT count(*) FROM audit_entries a WHERE a.action = 'opinion.set' AND NOT EXISTS
    (SELECT 1 FROM signals s JOIN opinions o ON o.signal_id = s.id WHERE s.public_id = a.subject AND o.member_id = a.actor)`,
  'signals whose submitter count is wrong': `SELECT count(*) FROM signals s WHERE submitters !=
    (SELECT count(*) FROM submissions WHERE signal_id = s.id AND status = 'active')`,
  'signals whose status disagrees with their submitters': "SELECT count(*) FROM signals WHERE (status = 'retracted') != (submitters = 0)",
  'gaps in the audit seqs': 'SELECT coalesce(max(seq), 0) - count(*) FROM audit_entries',
};

/** Checks the file as it is now (the service may be running on it: WAL readers do not block). */
function checkDatabase(path: string, world: World, options: { complete: boolean }): void {
  const db = new Database(path, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('foreign_key_check')).toEqual([]);
    db.exec(`CREATE TEMP TABLE entry_keys AS SELECT action, actor, subject, json_extract(data, '$.verdict') AS verdict FROM main.audit_entries;
      CREATE INDEX temp.entry_keys_by_key ON entry_keys (action, subject, actor);`);
    for (const [name, sql] of Object.entries(INVARIANTS)) expect({ name, count: db.prepare(sql).pluck().get() }).toEqual({ name, count: 0 });
    const entriesFor = db.prepare("SELECT count(*) FROM temp.entry_keys a JOIN signals s ON s.public_id = a.subject WHERE a.action = 'signal.submit' AND s.type = 'pdq' AND s.hash = ?").pluck();
    const present = db.prepare("SELECT count(*) FROM signals WHERE type = 'pdq' AND hash = ?").pluck();
    if (!options.complete) return;
    // Each acknowledged item: exactly its one audit entry (items are always new hashes).
    for (const hash of world.acked.keys()) expect({ hash, entries: entriesFor.get(Buffer.from(hash, 'hex')) }).toEqual({ hash, entries: 1 });
    // A batch whose answer never came is in the bank entirely, or not at all.
    for (const batch of world.inDoubtBatches) {
      const found = batch.hashes.map((hash) => present.get(Buffer.from(hash, 'hex')) as number);
      const total = found.reduce((a, b) => a + b, 0);
      expect([0, batch.hashes.length]).toContain(total);
      if (total > 0) for (const hash of batch.hashes) expect(entriesFor.get(Buffer.from(hash, 'hex'))).toBe(1);
    }
  } finally {
    db.close();
  }
}

/** Every acknowledged item, retraction and opinion, read back through the API. */
async function checkAcknowledged(server: ServeProcess, keys: Keys, world: World): Promise<void> {
  const alice = clientFor(server, keys.alice);
  const bob = clientFor(server, keys.bob);
  const live = [...world.acked].filter(([, s]) => !world.retracted.has(s.id) && !world.retractInDoubt.has(s.id));
  for (let start = 0; start < live.length; start += 1000) {
    const chunk = live.slice(start, start + 1000);
    const answer = await alice.match(chunk.map(([hash]) => ({ type: 'pdq', hash, maxDistance: 0 })), { includeDisputed: true, limit: 1 });
    answer.results.forEach((result, i) => {
      const [hash, expected] = chunk[i]!;
      const ids = 'matches' in result ? result.matches.map((m) => `${m.id}@${m.distance}`) : [];
      expect({ hash, ids }).toEqual({ hash, ids: [`${expected.id}@0`] });
    });
  }
  for (const id of world.retracted) expect((await bob.getSignal(id))['status']).toBe('retracted');
  for (const [id, verdict] of world.opinions) {
    expect((await bob.getSignal(id))['mine']).toMatchObject({ opinion: { verdict } });
  }
  for (const [id, verdict] of world.opinionsInDoubt) {
    const mine = (await bob.getSignal(id))['mine'] as { opinion?: { verdict: string } } | undefined;
    if (mine?.opinion) expect(mine.opinion.verdict).toBe(verdict);
  }
}

/** verifyLog as `audit verify --checkpoint` runs it, against the last head handed out. */
async function checkLog(server: ServeProcess, keys: Keys, world: World): Promise<number> {
  const result = await verifyLog(auditLogSource(clientFor(server, keys.auditor)), world.lastCheckpoint ? { saved: world.lastCheckpoint } : {});
  expect(result.findings).toEqual([]);
  expect(result.ok).toBe(true);
  if (world.lastCheckpoint) {
    expect(result.saved).toEqual({ treeSize: world.lastCheckpoint.treeSize, consistent: true });
    expect(result.checkpoint!.treeSize).toBeGreaterThanOrEqual(world.lastCheckpoint.treeSize);
  }
  return result.entries;
}

describe('crash safety under SIGKILL', () => {
  it(`keeps every acknowledged change through ${ROUNDS} kills`, { timeout: 60_000 + ROUNDS * 8_000 }, async () => {
    const world: World = {
      acked: new Map(),
      inDoubtBatches: [],
      retracted: new Set(),
      retractInDoubt: new Set(),
      opinions: new Map(),
      opinionsInDoubt: new Map(),
      lastCheckpoint: undefined,
      served: 0,
    };
    let server = await start(dbPath, SERVE_ENV);
    const keys = await setUp(server);
    let entries = 0;
    let backupEnded: string | undefined;
    for (let round = 0; round < ROUNDS; round++) {
      let stopped = false;
      const stop = () => stopped;
      const backupPath = join(dir, `backup-${round}.db`);
      const backup = round === BACKUP_ROUND ? runCli(['backup', backupPath, '--db', dbPath, '--json']).then((result) => ({ ...result, at: performance.now() })) : undefined;
      const load = Promise.all([
        submitLoop(clientFor(server, keys.alice), world, stop),
        submitLoop(clientFor(server, keys.alice), world, stop),
        changeLoop(clientFor(server, keys.bob), world, stop),
        checkpointLoop(clientFor(server, keys.auditor), world, stop),
      ]);
      // The backup's own process needs about a second to start: its round lasts long enough to overlap.
      await new Promise((resolve) => setTimeout(resolve, round === BACKUP_ROUND ? 700 + random.below(1200) : 40 + random.below(300)));
      server.child.kill('SIGKILL');
      const killedAt = performance.now();
      expect(await server.exited).toBe('SIGKILL');
      stopped = true;
      await load;

      server = await start(dbPath, SERVE_ENV);
      checkDatabase(dbPath, world, { complete: true });
      await checkAcknowledged(server, keys, world);
      entries = await checkLog(server, keys, world);
      // What was in doubt is settled now: it is either in the bank or not, and stays so.
      settle(world);

      if (backup) {
        const result = await backup;
        expect(result.code, result.stderr).toBe(0);
        backupEnded = result.at < killedAt ? 'before the kill' : 'after the kill';
        checkDatabase(backupPath, world, { complete: false });
        const copy = await start(backupPath, { ...SERVE_ENV, SIGNALBANK_LOG_KEY: join(dir, 'log.private.jwk.json') });
        try {
          const verified = await verifyLog(auditLogSource(clientFor(copy, keys.auditor)));
          expect(verified.findings).toEqual([]);
          expect(verified.ok).toBe(true);
        } finally {
          copy.child.kill('SIGKILL');
          await copy.exited;
        }
      }
    }
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(backupEnded).toBeDefined();
    expect(world.acked.size).toBeGreaterThan(ROUNDS * 5);
    expect(world.lastCheckpoint).toBeDefined();
    console.info(`crash safety: ${ROUNDS} SIGKILL rounds survived, ${world.served} requests acknowledged, ${world.acked.size} items, ${world.retracted.size} retractions, ${world.opinions.size} opinions, ${entries} audit entries verified, backup ended ${backupEnded} (seed ${SEED})`);
  });
});

/** After a check, requests in doubt are resolved by what the store holds, so later rounds hold them to it. */
function settle(world: World): void {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const find = db.prepare<[Buffer], { public_id: string; member: string }>(
      "SELECT s.public_id, sub.member_id AS member FROM signals s JOIN submissions sub ON sub.signal_id = s.id WHERE s.type = 'pdq' AND s.hash = ?",
    );
    for (const batch of world.inDoubtBatches.splice(0)) {
      for (const hash of batch.hashes) {
        const row = find.get(Buffer.from(hash, 'hex'));
        if (row) world.acked.set(hash, { id: row.public_id, member: row.member });
      }
    }
    const submission = db.prepare<[string, string], { status: string }>('SELECT sub.status FROM submissions sub JOIN signals s ON s.id = sub.signal_id WHERE s.public_id = ? AND sub.member_id = ?');
    for (const id of world.retractInDoubt) if (submission.get(id, 'bob')?.status === 'retracted') world.retracted.add(id);
    world.retractInDoubt.clear();
    const opinion = db.prepare<[string], { verdict: string }>("SELECT o.verdict FROM opinions o JOIN signals s ON s.id = o.signal_id WHERE s.public_id = ? AND o.member_id = 'bob'");
    for (const [id, verdict] of world.opinionsInDoubt) if (opinion.get(id)?.verdict === verdict) world.opinions.set(id, verdict);
    world.opinionsInDoubt.clear();
  } finally {
    db.close();
  }
}
