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
 * Batch jobs get their own rounds (on their own database, with 8 queries a chunk so that the kill
 * lands mid-job): an acknowledged job running, another cancelled, an upload cut halfway through its
 * body and one whose answer may or may not have come. After each restart the half-received upload
 * is gone (the service removes uploads never committed when it starts), every acknowledged job is
 * there and ends `done` with one result per line equal to `POST /v1/match` for it (or `failed`
 * with a reason, never silently short), cancelled ones stay cancelled, the `job.create` and
 * `job.cancel` entries are exactly the jobs there and the cancelled ones, and the log verifies.
 * CRASH_ROUNDS (default 20), CRASH_JOB_ROUNDS (default 4) and CRASH_SEED set the size and the
 * moments (`npm run stress` runs 100 rounds).
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SeededRandom } from '../../bench/lib/seeded-random.js';
import { verifyLog } from '../../src/audit/verify-log.js';
import { generateMemberKeyPair } from '../../src/auth/member-keys.js';
import { auditLogSource } from '../../src/client/audit-log-source.js';
import { loadSigningKey, signRequest, signingKeyFromJwk, type SigningKey } from '../../src/client/sign-request.js';
import { SignalbankClient, type SubmitItem } from '../../src/client/signalbank-client.js';
import type { Checkpoint } from '../../src/store/store.js';
import { INGEST_BATCH_LINES } from '../../src/jobs/job-service.js';
import { runCli } from '../support/run-cli.js';
import { startServeProcess, type ServeProcess } from '../support/serve-process.js';

const ROUNDS = Number(process.env['CRASH_ROUNDS'] ?? 20);
const JOB_ROUNDS = Number(process.env['CRASH_JOB_ROUNDS'] ?? 4);
const SEED = Number(process.env['CRASH_SEED'] ?? 20_261_129);
const BACKUP_ROUND = Math.min(3, ROUNDS - 1);
/**
 * Time for the SIGKILL rounds: a server start and a short load per round (about 1.5 s), and checks
 * that read everything acknowledged so far (integrity, invariants, every item through the API, the
 * whole log verified), so round r costs about r × 50 ms more; twice that as a margin for a shared
 * machine. 20 rounds: 4 min; 100 rounds: 23 min.
 */
function roundsTimeoutMs(rounds: number): number {
  return 60_000 + rounds * 8_000 + rounds * rounds * 50;
}
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

async function setUp(server: ServeProcess, keyDir = dir): Promise<Keys> {
  const admin = await loadSigningKey('admin', join(keyDir, 'admin.private.jwk.json'));
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
  // NOT IN, not a correlated NOT EXISTS: signal_changes has no index on signal_id (the service reads it by seq), so
  // NOT EXISTS scanned the whole feed once per signal, and the check grew with the square of the rounds.
  'signals without a change feed row': 'SELECT count(*) FROM signals WHERE id NOT IN (SELECT signal_id FROM signal_changes)',
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
async function checkLog(server: ServeProcess, keys: Keys, world: Pick<World, 'lastCheckpoint'>): Promise<number> {
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
  it(`keeps every acknowledged change through ${ROUNDS} kills`, { timeout: roundsTimeoutMs(ROUNDS) }, async () => {
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

// ---- Batch jobs ---------------------------------------------------------------------------------

const jobDir = join(dir, 'jobs');
const jobDbPath = join(jobDir, 'bank.db');
// Stored and recorded in blocks of 8 lines, each block searched on its own (the slowest a job runs), so that
// the kills land while a job runs; the search batches are then as small as the chunks.
const JOB_ENV = { ...SERVE_ENV, SIGNALBANK_JOB_CHUNK: '8', SIGNALBANK_JOB_SEARCH_BATCH: '8' };
/** Lines a cut upload sends before it stalls: more than one ingest batch, so part of it is on disk. */
const CUT_SENT_LINES = INGEST_BATCH_LINES + 800;

interface JobsWorld {
  /** Jobs whose 202 came: id → their lines and whether their cancel was acknowledged. */
  readonly acked: Map<string, { lines: string[]; cancelled: boolean }>;
  /** Uploads whose answer never came (fully sent): each may have been committed or not. */
  readonly inDoubt: string[][];
  /** Line counts of uploads cut halfway through the body: never a job. */
  readonly cutTotals: number[];
  /** Jobs already compared with POST /v1/match. */
  readonly verified: Set<string>;
  readonly usedTotals: Set<number>;
  lastCheckpoint: Checkpoint | undefined;
  killedMidJob: number;
  linesChecked: number;
  uploadsInDoubt: number;
  inDoubtCommitted: number;
  failed: number;
}

function flipBits(hash: string, bits: number): string {
  const bytes = Buffer.from(hash, 'hex');
  for (let i = 0; i < bits; i++) {
    const bit = random.below(256);
    bytes[bit >> 3]! ^= 1 << (bit & 7);
  }
  return bytes.toString('hex');
}

/** A job body of a line count no other job has: stored hashes, near misses, random hashes and a few bad lines. */
function jobBody(world: JobsWorld, stored: readonly string[], base: number): string[] {
  let total = base + random.below(600);
  while (world.usedTotals.has(total)) total++;
  world.usedTotals.add(total);
  return Array.from({ length: total }, (_, i) => {
    const pick = random.unit();
    if (pick < 0.02) return 'not json';
    if (pick < 0.3) return JSON.stringify({ type: 'pdq', hash: stored[random.below(stored.length)], maxDistance: 0, ref: `l${i + 1}` });
    if (pick < 0.5) return JSON.stringify({ type: 'pdq', hash: flipBits(stored[random.below(stored.length)]!, 1 + random.below(20)), maxDistance: 31 });
    return JSON.stringify({ type: 'pdq', hash: randomHash() });
  });
}

/** Sends the first `sent` lines of a signed job body and never the rest: the server dies while it receives. */
async function cutUpload(server: ServeProcess, key: SigningKey, lines: readonly string[], sent: number): Promise<void> {
  const whole = Buffer.from(lines.map((line) => `${line}\n`).join(''));
  const part = Buffer.from(lines.slice(0, sent).map((line) => `${line}\n`).join(''));
  const authorization = await signRequest(key, { method: 'POST', target: '/v1/jobs', bodyDigest: createHash('sha256').update(whole).digest('base64url') });
  const body = new ReadableStream<Uint8Array>({ start: (controller) => controller.enqueue(part) });
  const answer = await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: { authorization, 'content-type': 'application/x-ndjson' }, body, duplex: 'half', signal: AbortSignal.timeout(30_000) }).catch(() => undefined);
  if (answer) throw new Error(`a cut upload was answered ${answer.status}`);
}

function withJobDb<T>(read: (db: Database.Database) => T): T {
  const db = new Database(jobDbPath, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return read(db);
  } finally {
    db.close();
  }
}

const JOB_INVARIANTS: Record<string, string> = {
  'uploads never committed': "SELECT count(*) FROM jobs WHERE status = 'receiving'",
  'query blocks without a job': 'SELECT count(*) FROM job_query_blocks q WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE id = q.job_id)',
  'result blocks without a job': 'SELECT count(*) FROM job_result_blocks r WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE id = r.job_id)',
  // done counts the result lines held, plus the refused lines of blocks not run yet.
  'jobs whose done is not their result count': `SELECT count(*) FROM jobs j WHERE status != 'receiving' AND done !=
    coalesce((SELECT sum(lines) FROM job_result_blocks WHERE job_id = j.id), 0) + coalesce((SELECT sum(refused) FROM job_query_blocks WHERE job_id = j.id), 0)`,
  'unfinished jobs whose blocks are not their lines': `SELECT count(*) FROM jobs j WHERE status IN ('queued', 'running')
    AND total != coalesce((SELECT sum(last_line - first_line + 1) FROM job_query_blocks WHERE job_id = j.id), 0)
      + coalesce((SELECT sum(last_line - first_line + 1) FROM job_result_blocks WHERE job_id = j.id), 0)`,
  'overlapping blocks': `SELECT count(*) FROM (SELECT job_id, first_line, last_line FROM job_query_blocks UNION ALL SELECT job_id, first_line, last_line FROM job_result_blocks) a
    JOIN (SELECT job_id, first_line, last_line FROM job_query_blocks UNION ALL SELECT job_id, first_line, last_line FROM job_result_blocks) b
    ON a.job_id = b.job_id AND a.first_line < b.first_line AND b.first_line <= a.last_line`,
  'blocks beyond the last line': `SELECT count(*) FROM (SELECT job_id, last_line FROM job_query_blocks UNION ALL SELECT job_id, last_line FROM job_result_blocks) b
    JOIN jobs j ON j.id = b.job_id WHERE j.status != 'receiving' AND b.last_line > j.total`,
  'jobs without their create entry': `SELECT count(*) FROM jobs j WHERE NOT EXISTS
    (SELECT 1 FROM audit_entries a WHERE a.action = 'job.create' AND a.subject = j.public_id AND a.actor = j.member_id AND json_extract(a.data, '$.total') = j.total)`,
  'create entries without their job': "SELECT count(*) FROM audit_entries a WHERE a.action = 'job.create' AND NOT EXISTS (SELECT 1 FROM jobs WHERE public_id = a.subject)",
  'cancelled jobs without their cancel entry': `SELECT count(*) FROM jobs j WHERE status = 'cancelled' AND NOT EXISTS
    (SELECT 1 FROM audit_entries a WHERE a.action = 'job.cancel' AND a.subject = j.public_id AND a.actor = j.member_id)`,
  'cancel entries of jobs not cancelled': "SELECT count(*) FROM audit_entries a WHERE a.action = 'job.cancel' AND NOT EXISTS (SELECT 1 FROM jobs WHERE public_id = a.subject AND status = 'cancelled')",
  'gaps in the audit seqs': 'SELECT coalesce(max(seq), 0) - count(*) FROM audit_entries',
};

/** After a restart: the file is sound, the upload cut at the kill has been removed, and jobs and their entries agree. */
async function checkJobDatabase(world: JobsWorld): Promise<void> {
  // The service removes uncommitted uploads as it starts, in steps: wait for it (bounded).
  const deadline = Date.now() + 10_000;
  while (withJobDb((db) => db.prepare("SELECT count(*) FROM jobs WHERE status = 'receiving'").pluck().get() as number) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  withJobDb((db) => {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('foreign_key_check')).toEqual([]);
    for (const [name, sql] of Object.entries(JOB_INVARIANTS)) expect({ name, count: db.prepare(sql).pluck().get() }).toEqual({ name, count: 0 });
    const byTotal = db.prepare<[number], { public_id: string }>('SELECT public_id FROM jobs WHERE total = ?');
    for (const total of world.cutTotals) expect({ total, jobs: byTotal.all(total) }).toEqual({ total, jobs: [] });
    // An upload in doubt is a job now or never: from here on it is held to what the store says.
    for (const lines of world.inDoubt.splice(0)) {
      const found = byTotal.all(lines.length);
      expect(found.length).toBeLessThanOrEqual(1);
      if (found[0]) {
        world.acked.set(found[0].public_id, { lines, cancelled: false });
        world.inDoubtCommitted++;
      }
    }
    const ids = new Set(db.prepare("SELECT public_id FROM jobs WHERE member_id = 'alice'").pluck().all() as string[]);
    for (const id of world.acked.keys()) expect({ id, present: ids.has(id) }).toEqual({ id, present: true });
    expect(ids.size).toBe(world.acked.size);
  });
}

/** Every acknowledged job ends as it must; a job newly done gives, line for line, what POST /v1/match answers. */
async function checkJobs(client: SignalbankClient, world: JobsWorld): Promise<void> {
  for (const [id, job] of world.acked) {
    const deadline = Date.now() + 30_000;
    let status = await client.jobStatus(id);
    while ((status.status === 'queued' || status.status === 'running') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      status = await client.jobStatus(id);
    }
    if (job.cancelled) {
      expect({ id, status: status.status }).toEqual({ id, status: 'cancelled' });
      continue;
    }
    if (status.status === 'failed') {
      // Allowed, but only with a reason.
      expect(status.error?.code).toMatch(/^ERR_[A-Z_]+$/);
      expect(status.error?.message).toBeTruthy();
      if (!world.verified.has(id)) world.failed++;
      world.verified.add(id);
      continue;
    }
    expect({ id, status: status.status, done: status.done, total: status.total }).toEqual({ id, status: 'done', done: job.lines.length, total: job.lines.length });
    if (world.verified.has(id)) continue;
    let text = '';
    for await (const chunk of await client.jobResults(id)) text += Buffer.from(chunk).toString('utf8');
    const results = text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { line: number; ref?: string; matches?: unknown[]; error?: { code: string } });
    expect(results.map((result) => result.line)).toEqual(job.lines.map((_, i) => i + 1));
    const valid = job.lines.map((text, i) => ({ text, line: i + 1 })).filter(({ text }) => text !== 'not json');
    for (const { line, text } of job.lines.map((text, i) => ({ text, line: i + 1 })).filter(({ text }) => text === 'not json')) {
      expect({ line, text, code: results[line - 1]!.error?.code }).toEqual({ line, text, code: 'ERR_BAD_JSON' });
    }
    for (let start = 0; start < valid.length; start += 1000) {
      const chunk = valid.slice(start, start + 1000);
      const answer = await client.match(
        chunk.map(({ text }) => {
          const { type, hash, maxDistance } = JSON.parse(text) as { type: string; hash: string; maxDistance?: number };
          return { type, hash, ...(maxDistance !== undefined && { maxDistance }) };
        }),
        { limit: 5 },
      );
      chunk.forEach(({ line }, i) => {
        const expected = answer.results[i] as { matches?: unknown[] };
        expect({ line, matches: results[line - 1]!.matches }).toEqual({ line, matches: expected.matches });
      });
    }
    world.linesChecked += results.length;
    world.verified.add(id);
  }
}

describe('crash safety of batch jobs under SIGKILL', () => {
  it(`keeps every acknowledged job through ${JOB_ROUNDS} kills, and no half-received upload`, { timeout: 60_000 + JOB_ROUNDS * 15_000 }, async () => {
    mkdirSync(jobDir);
    const world: JobsWorld = {
      acked: new Map(),
      inDoubt: [],
      cutTotals: [],
      verified: new Set(),
      usedTotals: new Set(),
      lastCheckpoint: undefined,
      killedMidJob: 0,
      linesChecked: 0,
      uploadsInDoubt: 0,
      inDoubtCommitted: 0,
      failed: 0,
    };
    let server = await start(jobDbPath, JOB_ENV);
    const keys = await setUp(server, jobDir);
    const stored = Array.from({ length: 300 }, randomHash);
    await clientFor(server, keys.alice).submit(stored.map(item));
    let entries = 0;
    for (let round = 0; round < JOB_ROUNDS; round++) {
      const alice = clientFor(server, keys.alice);
      // An upload that stalls halfway: wait until a batch of it is on disk, uncommitted. It goes first, so that
      // the jobs below run while it waits, not while it is received.
      const cutLines = Array.from({ length: CUT_SENT_LINES + 3000 + round }, () => JSON.stringify({ type: 'md5', hash: randomHash().slice(0, 32) }));
      world.cutTotals.push(cutLines.length);
      const cut = cutUpload(server, keys.alice, cutLines, CUT_SENT_LINES);
      const receivingDeadline = Date.now() + 10_000;
      const receivedRows = () =>
        withJobDb((db) => db.prepare("SELECT coalesce(sum(last_line - first_line + 1), 0) FROM job_query_blocks q JOIN jobs j ON j.id = q.job_id WHERE j.status = 'receiving'").pluck().get() as number);
      while (receivedRows() < INGEST_BATCH_LINES && Date.now() < receivingDeadline) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(receivedRows()).toBeGreaterThanOrEqual(INGEST_BATCH_LINES);
      const lines = jobBody(world, stored, 1200);
      const running = await alice.createJob(lines, { limit: 5 });
      world.acked.set(running.id, { lines, cancelled: false });
      if (round % 2 === 1) {
        const doomed = jobBody(world, stored, 1200);
        const job = await alice.createJob(doomed, { limit: 5 });
        world.acked.set(job.id, { lines: doomed, cancelled: false });
        expect(await alice.cancelJob(job.id)).toMatchObject({ status: 'cancelled' });
        world.acked.set(job.id, { lines: doomed, cancelled: true });
      }
      if (round % 2 === 0) {
        // Kill once the job has answered part of its lines: resuming a job half done is what this tests.
        const startedDeadline = Date.now() + 10_000;
        let status = await alice.jobStatus(running.id);
        while (status.status !== 'done' && status.done === 0 && Date.now() < startedDeadline) {
          await new Promise((resolve) => setTimeout(resolve, 2));
          status = await alice.jobStatus(running.id);
        }
      } else {
        // Anywhere: queued, half done or done.
        await new Promise((resolve) => setTimeout(resolve, random.below(150)));
      }
      const before = await alice.jobStatus(running.id);
      if (before.status === 'running' && before.done > 0 && before.done < before.total) world.killedMidJob++;
      world.lastCheckpoint = await clientFor(server, keys.auditor).request<Checkpoint>('GET', '/v1/audit/checkpoint');
      // One more upload whose answer may or may not come before the kill.
      const doubtful = jobBody(world, stored, 200);
      const inFlight = alice.createJob(doubtful, { limit: 5 }).then(
        (job) => void world.acked.set(job.id, { lines: doubtful, cancelled: false }),
        (error: unknown) => {
          if (!inDoubt(error)) throw error;
          world.inDoubt.push(doubtful);
          world.uploadsInDoubt++;
        },
      );
      await new Promise((resolve) => setTimeout(resolve, random.below(40)));
      server.child.kill('SIGKILL');
      expect(await server.exited).toBe('SIGKILL');
      await Promise.all([cut, inFlight]);

      server = await start(jobDbPath, JOB_ENV);
      await checkJobDatabase(world);
      await checkJobs(clientFor(server, keys.alice), world);
      entries = await checkLog(server, keys, world);
    }
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    // The kill must have landed while a job ran, or resuming was never tested.
    expect(world.killedMidJob).toBeGreaterThan(0);
    console.info(
      `crash safety (jobs): ${JOB_ROUNDS} SIGKILL rounds survived, ${world.killedMidJob} kills mid-job, ${world.acked.size} jobs acknowledged (${[...world.acked.values()].filter((job) => job.cancelled).length} cancelled), ${world.uploadsInDoubt} uploads unanswered at the kill (${world.inDoubtCommitted} of them committed), ${world.failed} failed, ${world.linesChecked} result lines equal to POST /v1/match, ${world.cutTotals.length} half-received uploads removed, ${entries} audit entries verified (seed ${SEED})`,
    );
  });
});
