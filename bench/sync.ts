// `npm run bench:sync` (run it under `flock /tmp/signalbank-bench.lock`): the change feed's costs.
//  1. What writing change-feed rows costs batch submit: rounds alternate the store with and
//     without feed rows (the store's benchmark-only switch), everything else as served (signal
//     log on, tree kept by the upkeep worker, synchronous=FULL); medians and the cost ratio.
//  2. `signalbank sync` of SYNC_SIGNALS signals (default 1,000,000) into an empty mirror: the bank
//     is filled through the store's own submit path (the code the API runs, feed rows included),
//     served by `signalbank serve` in a child process, and synced by the real CLI in another child
//     process over HTTP — SYNC_ROUNDS times into a fresh mirror; then a rerun with nothing to do,
//     and one `match --mirror` (which builds the local index from the mirror).
// Table on stdout, JSON in bench/results/sync.json.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateMemberKeyPair, parsePublicJwk } from '../src/auth/member-keys.js';
import { initialiseBank } from '../src/bank/initialise-bank.js';
import { signingKeyFromJwk } from '../src/client/sign-request.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { startServeProcess } from '../test/support/serve-process.js';
import { median, printTable, writeResult } from './lib/bench-report.js';
import { rssOf } from './lib/process-memory.js';
import { proofFor, randomPdqItems, submitRound } from './lib/submit-round.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const BATCHES = Number(process.env['SUBMIT_BATCHES'] ?? 50);
const BATCH_SIZE = 1000;
const SIGNALS = Number(process.env['SYNC_SIGNALS'] ?? 1_000_000);
const SYNC_ROUNDS = Number(process.env['SYNC_ROUNDS'] ?? 3);
const FILL_BATCH = 10_000;
const ROOT = fileURLToPath(new URL('../', import.meta.url));

async function submitCost(): Promise<Record<string, unknown>> {
  const pair = await generateMemberKeyPair();
  const key = await signingKeyFromJwk('bench', pair.privateJwk);
  const samples = { with: [] as number[], without: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? (['with', 'without'] as const) : (['without', 'with'] as const);
    for (const mode of order) samples[mode].push(await submitRound({ audit: 'background', changes: mode === 'with', key, batches: BATCHES, batchSize: BATCH_SIZE }));
    process.stderr.write(`\rsubmit round ${round + 1}/${ROUNDS}`);
  }
  process.stderr.write('\n');
  const withFeed = median(samples.with);
  const withoutFeed = median(samples.without);
  return { batchSize: BATCH_SIZE, batchesPerRound: BATCHES, rounds: ROUNDS, withFeedSignalsPerSecond: withFeed, withoutFeedSignalsPerSecond: withoutFeed, feedCostShare: 1 - withFeed / withoutFeed, samples };
}

/** Runs the CLI in a child process; answers its stdout, exit code, wall seconds and peak RSS. */
async function cli(args: readonly string[], env: Record<string, string>): Promise<{ stdout: string; code: number | null; wallSeconds: number; rssPeakBytes: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', `${ROOT}src/cli/main.ts`, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  let rssPeakBytes = 0;
  const sampler = setInterval(() => (rssPeakBytes = Math.max(rssPeakBytes, rssOf(child.pid!))), 100);
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearInterval(sampler);
  return { stdout, code, wallSeconds: (performance.now() - started) / 1000, rssPeakBytes };
}

async function syncBench(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-sync-'));
  const dbPath = join(dir, 'bank.db');
  try {
    await initialiseBank({ dbPath });
    const store = SqliteStore.open({ path: dbPath });
    const operator = { actor: 'operator', kid: null, proof: null };
    const submitterPair = await generateMemberKeyPair();
    const syncPair = await generateMemberKeyPair();
    await store.createMember({ id: 'bench', name: 'Bench', roles: ['submitter'] }, operator);
    await store.createMember({ id: 'mirror', name: 'Mirror', roles: ['sync'] }, operator);
    const submitterKey = await store.addKey('bench', await parsePublicJwk(submitterPair.publicJwk), operator);
    const syncKey = await store.addKey('mirror', await parsePublicJwk(syncPair.publicJwk), operator);
    const signing = await signingKeyFromJwk('bench', { ...submitterPair.privateJwk, kid: submitterKey.kid });
    const fillStarted = performance.now();
    for (let done = 0; done < SIGNALS; done += FILL_BATCH) {
      await store.submitSignals('bench', randomPdqItems(Math.min(FILL_BATCH, SIGNALS - done)), { actor: 'bench', kid: signing.kid, proof: await proofFor(signing) });
      if ((done / FILL_BATCH) % 10 === 9) process.stderr.write(`\rfilling the bank: ${done + FILL_BATCH} signals`);
    }
    process.stderr.write('\n');
    const fillSeconds = (performance.now() - fillStarted) / 1000;
    const changes = await store.lastChangeSeq();
    await store.close();

    const keyPath = join(dir, 'mirror.private.jwk.json');
    writeFileSync(keyPath, JSON.stringify({ ...syncPair.privateJwk, kid: syncKey.kid }), { mode: 0o600 });
    const server = await startServeProcess(['--db', dbPath], { SIGNALBANK_RATE_LIMIT_PER_SECOND: '0' });
    const env = { SIGNALBANK_URL: server.url, SIGNALBANK_MEMBER: 'mirror', SIGNALBANK_KEY: keyPath };
    try {
      const runs: { wallSeconds: number; syncSeconds: number; rssPeakBytes: number; applied: number }[] = [];
      let mirror = '';
      for (let round = 0; round < SYNC_ROUNDS; round++) {
        mirror = join(dir, `mirror-${round}.db`);
        const run = await cli(['sync', '--mirror', mirror, '--json'], env);
        if (run.code !== 0) throw new Error(`sync exited ${run.code}: ${run.stdout}`);
        const summary = JSON.parse(run.stdout) as { applied: number; cursor: number; signals: number; elapsedSeconds: number };
        if (summary.cursor !== changes || summary.signals !== SIGNALS) throw new Error(`the mirror is incomplete: ${run.stdout}`);
        runs.push({ wallSeconds: run.wallSeconds, syncSeconds: summary.elapsedSeconds, rssPeakBytes: run.rssPeakBytes, applied: summary.applied });
        process.stderr.write(`sync ${round + 1}/${SYNC_ROUNDS}: ${summary.elapsedSeconds.toFixed(1)} s in the command, ${run.wallSeconds.toFixed(1)} s wall\n`);
      }
      const rerun = await cli(['sync', '--mirror', mirror, '--json'], env);
      const rerunSummary = JSON.parse(rerun.stdout) as { applied: number };
      if (rerunSummary.applied !== 0) throw new Error(`a rerun applied ${rerunSummary.applied} changes`);
      const match = await cli(['match', '--mirror', mirror, '--json', randomPdqItems(1)[0]!.hash], {});
      if (match.code !== 0) throw new Error(`match --mirror exited ${match.code}`);
      return {
        signals: SIGNALS,
        changes,
        fillSeconds,
        syncRounds: SYNC_ROUNDS,
        syncSeconds: median(runs.map((r) => r.syncSeconds)),
        syncWallSeconds: median(runs.map((r) => r.wallSeconds)),
        changesPerSecond: changes / median(runs.map((r) => r.syncSeconds)),
        clientRssPeakBytes: median(runs.map((r) => r.rssPeakBytes)),
        mirrorBytes: statSync(mirror).size,
        rerunWallSeconds: rerun.wallSeconds,
        matchMirrorWallSeconds: match.wallSeconds,
        runs,
      };
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const submit = await submitCost();
  printTable('batch submit, SQLite store, signal log on, synchronous=FULL (medians)', [
    { mode: 'without change-feed rows', 'signals/s': Math.round(submit['withoutFeedSignalsPerSecond'] as number), cost: '' },
    { mode: 'with change-feed rows (as served)', 'signals/s': Math.round(submit['withFeedSignalsPerSecond'] as number), cost: `${((submit['feedCostShare'] as number) * 100).toFixed(1)} %` },
  ]);
  const sync = await syncBench();
  const mib = (bytes: unknown): string => ((bytes as number) / 2 ** 20).toFixed(0);
  printTable(`signalbank sync into an empty mirror (median of ${SYNC_ROUNDS})`, [
    {
      signals: sync['signals'] as number,
      changes: sync['changes'] as number,
      'sync s': sync['syncSeconds'] as number,
      'wall s': sync['syncWallSeconds'] as number,
      'changes/s': Math.round(sync['changesPerSecond'] as number),
      'client RSS MiB': mib(sync['clientRssPeakBytes']),
      'mirror MiB': mib(sync['mirrorBytes']),
      target: '≤ 60 s',
    },
  ]);
  printTable('after the sync', [
    { 'rerun (nothing to do) wall s': sync['rerunWallSeconds'] as number, 'match --mirror, one hash, wall s': sync['matchMirrorWallSeconds'] as number, 'bank fill s': sync['fillSeconds'] as number },
  ]);
  console.log(`\nwritten ${writeResult('sync', { submit, sync })}`);
}

await main();
