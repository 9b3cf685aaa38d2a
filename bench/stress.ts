// `npm run stress` (under flock /tmp/signalbank-bench.lock): the heavy versions of the reliability
// tests, for docs/reliability.md.
//  1. A bank of STRESS_SIGNALS (default 1,000,000) PDQ signals, written through the store in
//     batches of 1,000 (each with its audit entry), served by `signalbank serve` in a child
//     process with the service's default rate limit (16 load members).
//  2. STRESS_SECONDS (default 60) of mixed load at saturation from STRESS_CONNECTIONS (default 32)
//     keep-alive connections: 80 % single matches, 15 % batch submits of 10 new hashes, 5 %
//     opinions, every request signed ahead of the run in worker threads. Per kind: requests,
//     statuses and p50/p99/max latency; the server's memory sampled every second as RssAnon,
//     RssFile and RssShmem (the second half's peak and its trough, of RssAnon and of the total RSS,
//     must each stay within 10 % of the first half's); any answer other than 2xx or 429 is an error.
//  3. `signalbank backup` started 5 s into the load; the copy must open, pass integrity_check and
//     its signal log must verify (a service started on the copy, `verifyLog` as `audit verify`).
//  4. The crash-safety test with CRASH_ROUNDS (default 100) SIGKILL rounds and the route fuzzing
//     with FUZZ_RUNS (default 2,000) runs per property, through vitest.
// Table on stdout, JSON in bench/results/stress.json; exit code 1 when any check failed.
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JWK } from 'jose';
import { verifyLog } from '../src/audit/verify-log.js';
import { generateMemberKeyPair, parsePublicJwk } from '../src/auth/member-keys.js';
import { initialiseBank } from '../src/bank/initialise-bank.js';
import { auditLogSource } from '../src/client/audit-log-source.js';
import { signingKeyFromJwk, signRequest } from '../src/client/sign-request.js';
import { SignalbankClient } from '../src/client/signalbank-client.js';
import { BackgroundUpkeep } from '../src/store/sqlite/background-upkeep.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { AuditOrigin, Role, SubmissionInput } from '../src/store/store.js';
import { runCli } from '../test/support/run-cli.js';
import { percentile, printTable, writeResult } from './lib/bench-report.js';
import { presignRequests, type LoadKind, type LoadRequest } from './lib/load-requests.js';
import { SeededRandom } from './lib/seeded-random.js';
import { peakGrowth, sampleMemory, troughGrowth, trendGrowth, type MemorySample } from './lib/memory-trend.js';
import { startServeChild } from './lib/serve-child.js';

const SIGNALS = Number(process.env['STRESS_SIGNALS'] ?? 1_000_000);
const SECONDS = Number(process.env['STRESS_SECONDS'] ?? 60);
const CONNECTIONS = Number(process.env['STRESS_CONNECTIONS'] ?? 32);
const PRESIGNED = Number(process.env['STRESS_PRESIGNED'] ?? 150_000);
/** `STRESS_MIX=match,submit,opinion` shares (default 0.8,0.15,0.05); `1,0,0` adds no signals, for telling growth of the bank from a leak. */
const MIX = mixFrom(process.env['STRESS_MIX'] ?? '0.8,0.15,0.05');
const CRASH_ROUNDS = Number(process.env['CRASH_ROUNDS'] ?? 100);
const FUZZ_RUNS = Number(process.env['FUZZ_RUNS'] ?? 2000);
/**
 * `STRESS_BANK_CACHE=dir`, for experiments: the populated bank (its directory and the load
 * members' keys) is kept in `dir` the first time and copied from there by later runs with the same
 * STRESS_SIGNALS, instead of being populated again (80–100 s at 1,000,000 signals).
 */
const BANK_CACHE = process.env['STRESS_BANK_CACHE'];
/** `STRESS_SERVER_NODE_ARGS`: extra node flags for the server under load (space-separated), e.g. `--expose-gc --import tsx --import ./bench/lib/memory-probe.ts` (tsx first: these come before the `--import tsx` the child is started with). */
const SERVER_NODE_ARGS = (process.env['STRESS_SERVER_NODE_ARGS'] ?? '').split(' ').filter((arg) => arg !== '');
/** `STRESS_HEAVY=0`: the load and the backup only, written to stress-load.json (the full run's file is kept). */
const HEAVY = process.env['STRESS_HEAVY'] !== '0';
/** Early, so that the backup (13–16 s at 1,000,000 signals) runs under the load and is over before the second half. */
const BACKUP_AFTER_S = Math.min(5, SECONDS / 12);
/**
 * Limit on the growth of the server's memory over the second half of the load, both for its own
 * memory (RssAnon) and its total RSS: the second half's peak against the first half's (tooth tops,
 * which carry garbage not yet collected), and the second half's trough against the first half's
 * (what the server keeps once collected: memory retained from tooth to tooth, as the malloc heap
 * did with superseded index tables, raises the troughs even when the tops do not). The first
 * WARM_UP_S of the load are left out of the first half: the startup's garbage, held until the
 * first full collection 3–9 s into the load (docs/reliability.md, Load).
 */
const GROWTH_LIMIT = 0.1;
const WARM_UP_S = Math.min(5, SECONDS / 12);
const LOAD_MEMBERS = 16;
const SEED = 7;
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const OPERATOR: AuditOrigin = { actor: 'operator', kid: null, proof: null };
const KINDS: readonly LoadKind[] = ['match', 'submit', 'opinion'];

function mixFrom(text: string): { match: number; submit: number; opinion: number } {
  const [match, submit, opinion] = text.split(',').map(Number);
  if ([match, submit, opinion].some((share) => share === undefined || !(share >= 0)) || Math.abs(match! + submit! + opinion! - 1) > 1e-9) {
    throw new Error(`STRESS_MIX must be three shares match,submit,opinion adding up to 1, not '${text}'`);
  }
  return { match: match!, submit: submit!, opinion: opinion! };
}

interface Bank {
  readonly dir: string;
  readonly dbPath: string;
  readonly loadMembers: { memberId: string; privateJwk: JWK }[];
  readonly auditor: { memberId: string; privateJwk: JWK };
  readonly storedHashes: SharedArrayBuffer;
  readonly opinionIds: string[];
  readonly seconds: number;
}

async function addMember(store: SqliteStore, id: string, roles: Role[]): Promise<{ memberId: string; privateJwk: JWK }> {
  await store.createMember({ id, name: id, roles }, OPERATOR);
  const pair = await generateMemberKeyPair();
  const key = await store.addKey(id, await parsePublicJwk(pair.publicJwk), OPERATOR);
  return { memberId: id, privateJwk: { ...pair.privateJwk, kid: key.kid } };
}

/** The bank, from STRESS_BANK_CACHE when it holds one of this size, else populated (and kept there when asked). */
async function bankForRun(): Promise<Bank> {
  const keptAs = BANK_CACHE === undefined || BANK_CACHE === '' ? undefined : join(BANK_CACHE, `bank-${SIGNALS}`);
  if (keptAs !== undefined && existsSync(join(keptAs, 'bank.json'))) {
    const started = performance.now();
    const dir = mkdtempSync(join(tmpdir(), 'sb-stress-'));
    cpSync(join(keptAs, 'files'), dir, { recursive: true });
    const kept = JSON.parse(readFileSync(join(keptAs, 'bank.json'), 'utf8')) as Pick<Bank, 'loadMembers' | 'auditor' | 'opinionIds'>;
    const storedHashes = new SharedArrayBuffer(SIGNALS * 32);
    new SeededRandom(SEED).fill(new Uint32Array(storedHashes));
    return { ...kept, dir, dbPath: join(dir, 'bank.db'), storedHashes, seconds: (performance.now() - started) / 1000 };
  }
  const bank = await populate();
  if (keptAs !== undefined) {
    cpSync(bank.dir, join(keptAs, 'files'), { recursive: true });
    writeFileSync(join(keptAs, 'bank.json'), JSON.stringify({ loadMembers: bank.loadMembers, auditor: bank.auditor, opinionIds: bank.opinionIds }));
  }
  return bank;
}

/** The bank, written through the store in batches of 1,000 signed-for items, as bench:audit does. */
async function populate(): Promise<Bank> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-stress-'));
  const dbPath = join(dir, 'bank.db');
  const started = performance.now();
  await initialiseBank({ dbPath });
  const store = SqliteStore.open({ path: dbPath });
  const upkeep = BackgroundUpkeep.start(store);
  const bulk = await addMember(store, 'bulk', ['submitter']);
  const loadMembers = [];
  for (let i = 0; i < LOAD_MEMBERS; i++) loadMembers.push(await addMember(store, `load-${i}`, ['submitter', 'matcher']));
  const auditor = await addMember(store, 'auditor', ['auditor']);
  const bulkKey = await signingKeyFromJwk('bulk', bulk.privateJwk);
  const storedHashes = new SharedArrayBuffer(SIGNALS * 32);
  new SeededRandom(SEED).fill(new Uint32Array(storedHashes));
  const bytes = new Uint8Array(storedHashes);
  for (let start = 0; start < SIGNALS; start += 1000) {
    const items: SubmissionInput[] = [];
    for (let i = start; i < Math.min(SIGNALS, start + 1000); i++) {
      items.push({ type: 'pdq', hash: Buffer.from(bytes.subarray(i * 32, i * 32 + 32)).toString('hex'), labels: ['suicide'], media: 'image', quality: 90 });
    }
    const proof = (await signRequest(bulkKey, { method: 'POST', target: '/v1/signals', body: Buffer.from(String(start)) })).slice('JWS '.length);
    await store.submitSignals('bulk', items, { actor: 'bulk', kid: bulkKey.kid, proof });
    if (start % 100_000 === 0) process.stderr.write(`\rpopulating: ${start} signals`);
  }
  process.stderr.write('\n');
  const opinionIds = store.db.prepare('SELECT public_id FROM signals WHERE id % 100 = 0').pluck().all() as string[];
  await upkeep.stop();
  await store.close();
  return { dir, dbPath, loadMembers, auditor, storedHashes, opinionIds, seconds: (performance.now() - started) / 1000 };
}

interface KindStats {
  latencies: number[];
  statuses: Record<number, number>;
  networkErrors: number;
}

/** One request on a kept-alive connection; answers status and milliseconds. */
function send(agent: Agent, url: URL, request: LoadRequest): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: request.authorization };
    if (request.body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(request.body));
    }
    const outgoing = httpRequest({ agent, host: url.hostname, port: url.port, method: request.method, path: request.target, headers }, (response) => {
      response.on('data', () => undefined);
      response.on('end', () => resolve(response.statusCode ?? 0));
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });
}

interface LoadResult {
  readonly stats: Record<LoadKind, KindStats>;
  readonly seconds: number;
  readonly exhausted: boolean;
  readonly memory: MemorySample[];
  readonly backup: { startedAtS: number; endedAtS: number; code: number | null; output: string };
}

async function runLoad(bank: Bank, url: string, pid: number, requests: LoadRequest[]): Promise<LoadResult> {
  const target = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const stats = Object.fromEntries(KINDS.map((kind): [LoadKind, KindStats] => [kind, { latencies: [], statuses: {}, networkErrors: 0 }])) as Record<LoadKind, KindStats>;
  const started = performance.now();
  const stopAt = started + SECONDS * 1000;
  const memory = [sampleMemory(pid, 0)];
  const sampler = setInterval(() => memory.push(sampleMemory(pid, (performance.now() - started) / 1000)), 1000);
  let backup: Promise<LoadResult['backup']> | undefined;
  const backupTimer = setTimeout(() => {
    const startedAtS = (performance.now() - started) / 1000;
    backup = runCli(['backup', join(bank.dir, 'backup.db'), '--db', bank.dbPath, '--json']).then((result) => ({
      startedAtS,
      endedAtS: (performance.now() - started) / 1000,
      code: result.code,
      output: (result.stdout + result.stderr).trim().slice(0, 500),
    }));
  }, BACKUP_AFTER_S * 1000);
  let next = 0;
  let exhausted = false;
  const user = async (): Promise<void> => {
    while (performance.now() < stopAt) {
      const request = requests[next++];
      if (!request) {
        exhausted = true;
        return;
      }
      const kind = stats[request.kind];
      const sent = performance.now();
      try {
        const status = await send(agent, target, request);
        kind.latencies.push(performance.now() - sent);
        kind.statuses[status] = (kind.statuses[status] ?? 0) + 1;
      } catch {
        kind.networkErrors++;
      }
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, user));
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  clearTimeout(backupTimer);
  memory.push(sampleMemory(pid, seconds));
  agent.destroy();
  if (!backup) throw new Error('the backup never started');
  return { stats, seconds, exhausted, memory, backup: await backup };
}

/** Opens the backup, checks it, and verifies its signal log through a service started on it. */
async function checkBackup(bank: Bank): Promise<Record<string, unknown>> {
  const path = join(bank.dir, 'backup.db');
  const copy = new Database(path, { readonly: true, fileMustExist: true });
  const integrity = copy.pragma('integrity_check', { simple: true });
  const signals = copy.prepare('SELECT count(*) FROM signals').pluck().get() as number;
  copy.close();
  const service = await startServeChild(path, {
    logFile: join(bank.dir, 'backup-serve.log'),
    env: { SIGNALBANK_LOG_KEY: join(bank.dir, 'log.private.jwk.json'), SIGNALBANK_RATE_LIMIT_PER_SECOND: '0' },
  });
  const url = service.url;
  try {
    const key = await signingKeyFromJwk('auditor', bank.auditor.privateJwk);
    const started = performance.now();
    const result = await verifyLog(auditLogSource(new SignalbankClient({ baseUrl: url, key })));
    return { integrity, signals, logVerified: result.ok, logEntries: result.entries, findings: result.findings.slice(0, 5), verifySeconds: (performance.now() - started) / 1000 };
  } finally {
    await service.stop();
  }
}

const MEMORY_PARTS = {
  rss: { label: 'RSS (total)', bytesOf: (sample: MemorySample) => sample.rssBytes },
  anon: { label: 'RssAnon (own)', bytesOf: (sample: MemorySample) => sample.anonBytes },
  file: { label: 'RssFile', bytesOf: (sample: MemorySample) => sample.fileBytes },
  shmem: { label: 'RssShmem', bytesOf: (sample: MemorySample) => sample.shmemBytes },
} as const;

/**
 * The server's memory through the load, per part of its RSS: the samples at the start, at half
 * time and at the end; the second half's peak and trough against the first half's (the checks); the trend of
 * the second half's samples; and, for comparison with earlier runs, the second half's peak over
 * the half-time sample alone (the measure used before, which a sawtooth defeats).
 */
function memoryFigures(samples: readonly MemorySample[], seconds: number) {
  const half = seconds / 2;
  const halfTime = samples.reduce((best, sample) => (Math.abs(sample.t - half) < Math.abs(best.t - half) ? sample : best));
  const figures = (bytesOf: (sample: MemorySample) => number) => {
    const peaks = peakGrowth(samples, WARM_UP_S, half, seconds, bytesOf);
    const halfTimeBytes = bytesOf(halfTime);
    return {
      startBytes: bytesOf(samples[0]!),
      halfTimeBytes,
      endBytes: bytesOf(samples.at(-1)!),
      peaks,
      troughs: troughGrowth(samples, WARM_UP_S, half, seconds, bytesOf),
      trend: trendGrowth(samples, half, seconds, bytesOf),
      peakOverHalfTime: halfTimeBytes === 0 ? 0 : peaks.laterPeakBytes / halfTimeBytes - 1,
    };
  };
  return { rss: figures(MEMORY_PARTS.rss.bytesOf), anon: figures(MEMORY_PARTS.anon.bytesOf), file: figures(MEMORY_PARTS.file.bytesOf), shmem: figures(MEMORY_PARTS.shmem.bytesOf) };
}

/** Runs one reliability test file through vitest with its size variable; answers its summary line. */
function runTest(file: string, env: Record<string, string>, summary: RegExp): Promise<{ passed: boolean; summary: string; seconds: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', file], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (code) => {
      // eslint-disable-next-line no-control-regex -- terminal colour codes
      const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
      if (code !== 0) process.stderr.write(plain.slice(-4000));
      resolve({ passed: code === 0, summary: summary.exec(plain)?.[0] ?? '(no summary)', seconds: (performance.now() - started) / 1000 });
    });
  });
}

async function main(): Promise<void> {
  const bank = await bankForRun();
  console.log(`populated ${SIGNALS} signals in ${bank.seconds.toFixed(0)} s`);
  const failures: string[] = [];
  try {
    const signStarted = performance.now();
    // The signers' streams must differ from the one that generated the stored hashes (SEED):
    // with the same seed, "random" submits and misses replayed stored hashes, so a load member
    // could submit a signal and then be refused (409) an opinion on it.
    const requests = await presignRequests(
      { seed: SEED + 1_000, count: PRESIGNED, members: bank.loadMembers, opinionIds: bank.opinionIds, storedHashes: bank.storedHashes, mix: MIX, submitBatch: 10 },
      2,
    );
    console.log(`signed ${requests.length} requests in ${((performance.now() - signStarted) / 1000).toFixed(0)} s`);
    const serveStarted = performance.now();
    // The service's own rate limit (200/s per member, burst 400): 429s are counted, not errors.
    const service = await startServeChild(bank.dbPath, { logFile: join(bank.dir, 'serve.log'), env: { SIGNALBANK_RATE_LIMIT_PER_SECOND: '200' }, nodeArgs: SERVER_NODE_ARGS });
    const startSeconds = (performance.now() - serveStarted) / 1000;
    let load: LoadResult;
    try {
      load = await runLoad(bank, service.url, service.pid, requests);
    } finally {
      await service.stop();
    }
    const rows = KINDS.map((kind) => {
      const s = load.stats[kind];
      const count = s.latencies.length;
      const errors = Object.entries(s.statuses).filter(([status]) => !(Number(status) < 300 || Number(status) === 429)).reduce((sum, [, n]) => sum + n, 0) + s.networkErrors;
      return {
        kind,
        requests: count,
        'req/s': count / load.seconds,
        '2xx': Object.entries(s.statuses).filter(([status]) => Number(status) < 300).reduce((sum, [, n]) => sum + n, 0),
        'rate limited (429)': s.statuses[429] ?? 0,
        errors,
        'p50 ms': percentile(s.latencies, 50),
        'p99 ms': percentile(s.latencies, 99),
        // Not Math.max(...latencies): a long run's hundreds of thousands of arguments overflow the stack.
        'max ms': s.latencies.reduce((max, latency) => Math.max(max, latency), Number.NEGATIVE_INFINITY),
        statuses: JSON.stringify(s.statuses),
      };
    });
    const total = rows.reduce((sum, row) => sum + row.requests, 0);
    printTable(`mixed load, ${SIGNALS} signals, ${CONNECTIONS} connections, ${load.seconds.toFixed(0)} s (${Math.round(total / load.seconds)} req/s)`, rows);
    const memory = memoryFigures(load.memory, load.seconds);
    const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
    const percent = (growth: number) => `${(growth * 100).toFixed(1)} %`;
    printTable(
      `server memory (MiB; growth = peak of the 2nd half over peak of the 1st after ${WARM_UP_S} s, and the same for the troughs, limit ${GROWTH_LIMIT * 100} % for RssAnon and RSS; ${memory.rss.trend.samples} samples in the 2nd half)`,
      (['rss', 'anon', 'file', 'shmem'] as const).map((part) => {
        const figures = memory[part];
        return {
          part: MEMORY_PARTS[part].label,
          start: mib(figures.startBytes),
          'peak, 1st half': mib(figures.peaks.earlierPeakBytes),
          'half time': mib(figures.halfTimeBytes),
          'peak, 2nd half': mib(figures.peaks.laterPeakBytes),
          end: mib(figures.endBytes),
          growth: percent(figures.peaks.growth),
          'trough, 1st half': mib(figures.troughs.earlierTroughBytes),
          'trough, 2nd half': mib(figures.troughs.laterTroughBytes),
          'trough growth': percent(figures.troughs.growth),
          'trend, 2nd half': percent(figures.trend.growth),
          'peak / half time': percent(figures.peakOverHalfTime),
        };
      }),
    );
    const backupCheck = load.backup.code === 0 ? await checkBackup(bank) : { logVerified: false };
    printTable('backup during the load', [
      { 'started s': load.backup.startedAtS, 'ended s': load.backup.endedAtS, exit: String(load.backup.code), integrity: String(backupCheck['integrity']), signals: Number(backupCheck['signals'] ?? 0), 'log verified': String(backupCheck['logVerified']), entries: Number(backupCheck['logEntries'] ?? 0) },
    ]);
    if (rows.some((row) => row.errors > 0)) failures.push('answers other than 2xx or 429');
    if (memory.anon.peaks.growth >= GROWTH_LIMIT) failures.push(`the server's own memory (RssAnon) peaked ${percent(memory.anon.peaks.growth)} higher in the second half`);
    if (memory.rss.peaks.growth >= GROWTH_LIMIT) failures.push(`the server's RSS peaked ${percent(memory.rss.peaks.growth)} higher in the second half`);
    if (memory.anon.troughs.growth >= GROWTH_LIMIT) failures.push(`the server's own memory (RssAnon) kept ${percent(memory.anon.troughs.growth)} more in the second half (troughs)`);
    if (memory.rss.troughs.growth >= GROWTH_LIMIT) failures.push(`the server's RSS kept ${percent(memory.rss.troughs.growth)} more in the second half (troughs)`);
    if (load.exhausted) failures.push('the pre-signed requests ran out before the end (raise STRESS_PRESIGNED)');
    if (load.backup.code !== 0 || backupCheck['integrity'] !== 'ok' || backupCheck['logVerified'] !== true) failures.push('the backup taken under load did not check out');
    if (load.backup.endedAtS > load.seconds) failures.push('the backup did not finish while the load ran');

    const loadResult = {
      signals: SIGNALS,
      mix: MIX,
      populateSeconds: bank.seconds,
      serverStartSeconds: startSeconds,
      connections: CONNECTIONS,
      loadSeconds: load.seconds,
      requestsPerSecond: total / load.seconds,
      kinds: rows,
      memory,
      memorySamples: load.memory.map((sample) => ({ t: sample.t, rssMiB: sample.rssBytes / 2 ** 20, anonMiB: sample.anonBytes / 2 ** 20, fileMiB: sample.fileBytes / 2 ** 20, shmemMiB: sample.shmemBytes / 2 ** 20 })),
      backup: { ...load.backup, ...backupCheck },
    };
    if (!HEAVY) {
      console.log(`\nwritten ${writeResult('stress-load', { ...loadResult, failures })}`);
      if (failures.length > 0) {
        console.error(`\nFAILED: ${failures.join('; ')}`);
        process.exitCode = 1;
      }
      return;
    }
    // Written now too, so that the load's figures survive if the heavy tests are interrupted.
    writeResult('stress', { ...loadResult, crash: 'not run yet', fuzz: 'not run yet', failures });
    const crash = await runTest('test/reliability/crash-safety.test.ts', { CRASH_ROUNDS: String(CRASH_ROUNDS) }, /crash safety: [^\n]*/);
    const fuzz = await runTest('test/reliability/fuzz-routes.test.ts', { FUZZ_RUNS: String(FUZZ_RUNS), FUZZ_SEED: String(Date.now() % 1_000_000) }, /fuzz: [^\n]*/);
    printTable('heavy test runs', [
      { test: 'crash safety', passed: String(crash.passed), 's': crash.seconds, summary: crash.summary },
      { test: 'route fuzzing', passed: String(fuzz.passed), 's': fuzz.seconds, summary: fuzz.summary },
    ]);
    if (!crash.passed) failures.push('the crash-safety test failed');
    if (!fuzz.passed) failures.push('the fuzzing failed');

    const path = writeResult('stress', {
      ...loadResult,
      crash: { rounds: CRASH_ROUNDS, ...crash },
      fuzz: { runsPerProperty: FUZZ_RUNS, ...fuzz },
      failures,
    });
    console.log(`\nwritten ${path}`);
  } finally {
    rmSync(bank.dir, { recursive: true, force: true });
  }
  if (failures.length > 0) {
    console.error(`\nFAILED: ${failures.join('; ')}`);
    process.exitCode = 1;
  }
}

await main();
