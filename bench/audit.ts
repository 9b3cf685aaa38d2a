// `npm run bench:audit`: what the signal log costs and how fast an auditor can check it.
//  1. Batch-submit throughput of the SQLite store (1,000 new PDQ items per transaction, each
//     with a real request JWS as its proof, synchronous=FULL), alternating in every round so all
//     modes see the same noise; medians and the cost ratios:
//       - without the log (the store's upkeep worker checkpointing the WAL, as served);
//       - with the log as the service runs it: entries in the submit transaction, the Merkle tree
//         kept by the upkeep worker — timed until the tree has caught up with every entry;
//       - with the log and everything on the same thread (no second core at all).
//  2. `audit verify` (verifyLog over HTTP, as the CLI runs it) of a log of AUDIT_VERIFY_ENTRIES
//     entries (default 1,000,000) served by a real service in a child process, then the whole
//     NDJSON export streamed from it while the server's RSS is sampled.
// Table on stdout, JSON in bench/results/audit.json.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyLog } from '../src/audit/verify-log.js';
import { generateMemberKeyPair, parsePublicJwk } from '../src/auth/member-keys.js';
import { initialiseBank } from '../src/bank/initialise-bank.js';
import { auditLogSource } from '../src/client/audit-log-source.js';
import { SignalbankClient } from '../src/client/signalbank-client.js';
import { signingKeyFromJwk } from '../src/client/sign-request.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { median, printTable, writeResult } from './lib/bench-report.js';
import { rssOf } from './lib/process-memory.js';
import { startServeChild } from './lib/serve-child.js';
import { proofFor, randomPdqItems, submitRound, type AuditMode } from './lib/submit-round.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const BATCHES = Number(process.env['AUDIT_BATCHES'] ?? 100);
const BATCH_SIZE = 1000;
const VERIFY_ENTRIES = Number(process.env['AUDIT_VERIFY_ENTRIES'] ?? 1_000_000);

/** Streams the whole NDJSON export, sampling the server's RSS: it must stay flat however long the log. */
async function exportBench(client: SignalbankClient, pid: number): Promise<Record<string, number>> {
  const rssBefore = rssOf(pid);
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssOf(pid))), 50);
  const started = performance.now();
  let lines = 0;
  let bytes = 0;
  try {
    const response = await client.stream('/v1/audit/export?format=ndjson');
    for await (const chunk of response.body! as AsyncIterable<Uint8Array>) {
      bytes += chunk.byteLength;
      for (const byte of chunk) if (byte === 10) lines++;
    }
  } finally {
    clearInterval(sampler);
  }
  const seconds = (performance.now() - started) / 1000;
  process.stderr.write(`exported ${lines} lines (${(bytes / 2 ** 20).toFixed(0)} MiB) in ${seconds.toFixed(1)} s\n`);
  return { exportLines: lines, exportBytes: bytes, exportSeconds: seconds, exportRssBeforeBytes: rssBefore, exportRssPeakBytes: rssPeak };
}

async function verifyBench(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-verify-'));
  const dbPath = join(dir, 'bank.db');
  try {
    await initialiseBank({ dbPath });
    const store = SqliteStore.open({ path: dbPath });
    const member = await generateMemberKeyPair();
    const auditorPair = await generateMemberKeyPair();
    const operator = { actor: 'operator', kid: null, proof: null };
    await store.createMember({ id: 'bench', name: 'Bench', roles: ['submitter'] }, operator);
    await store.createMember({ id: 'auditor', name: 'Auditor', roles: ['auditor'] }, operator);
    const memberKey = await store.addKey('bench', await parsePublicJwk(member.publicJwk), operator);
    const auditorKey = await store.addKey('auditor', await parsePublicJwk(auditorPair.publicJwk), operator);
    const signing = await signingKeyFromJwk('bench', { ...member.privateJwk, kid: memberKey.kid });
    const buildStarted = performance.now();
    const batches = Math.ceil(VERIFY_ENTRIES / BATCH_SIZE);
    for (let b = 0; b < batches; b++) {
      await store.submitSignals('bench', randomPdqItems(BATCH_SIZE), { actor: 'bench', kid: signing.kid, proof: await proofFor(signing) });
      if (b % 100 === 99) process.stderr.write(`\rbuilding the log: ${(b + 1) * BATCH_SIZE} entries`);
    }
    process.stderr.write('\n');
    const buildSeconds = (performance.now() - buildStarted) / 1000;
    const entries = (await store.auditTreeHead()).treeSize;
    await store.close();
    const service = await startServeChild(dbPath, { logFile: join(dir, 'serve.log'), env: { SIGNALBANK_RATE_LIMIT_PER_SECOND: '0' } });
    try {
      const key = await signingKeyFromJwk('auditor', { ...(auditorPair.privateJwk), kid: auditorKey.kid });
      const client = new SignalbankClient({ baseUrl: service.url, key });
      const started = performance.now();
      const result = await verifyLog(auditLogSource(client), {
        onProgress: (n) => {
          if (n % 100_000 === 0) process.stderr.write(`\rverified ${n} entries`);
        },
      });
      process.stderr.write('\n');
      const seconds = (performance.now() - started) / 1000;
      if (!result.ok) throw new Error(`the benchmark log did not verify: ${JSON.stringify(result.findings.slice(0, 3))}`);
      const exported = await exportBench(client, service.pid);
      return { entries, buildSeconds, verifySeconds: seconds, entriesPerSecond: entries / seconds, signedRequests: result.signedRequests, ...exported };
    } finally {
      await service.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const pair = await generateMemberKeyPair();
  const key = await signingKeyFromJwk('bench', pair.privateJwk);
  const samples: Record<AuditMode, number[]> = { without: [], background: [], inline: [] };
  const modes: AuditMode[] = ['without', 'background', 'inline'];
  for (let round = 0; round < ROUNDS; round++) {
    const order = [...modes.slice(round % 3), ...modes.slice(0, round % 3)];
    for (const mode of order) samples[mode].push(await submitRound({ audit: mode, key, batches: BATCHES, batchSize: BATCH_SIZE }));
    process.stderr.write(`\rsubmit round ${round + 1}/${ROUNDS}`);
  }
  process.stderr.write('\n');
  const base = median(samples.without);
  const submit = {
    batchSize: BATCH_SIZE,
    batchesPerRound: BATCHES,
    rounds: ROUNDS,
    withoutAuditSignalsPerSecond: base,
    withAuditSignalsPerSecond: median(samples.background),
    withAuditInlineSignalsPerSecond: median(samples.inline),
    auditCostShare: 1 - median(samples.background) / base,
    auditCostShareInline: 1 - median(samples.inline) / base,
    samples,
  };
  printTable('batch submit, SQLite store, synchronous=FULL (medians)', [
    { mode: 'without the audit log', 'signals/s': Math.round(base), cost: '' },
    { mode: 'with the log, tree by the background worker (as served)', 'signals/s': Math.round(submit.withAuditSignalsPerSecond), cost: `${(submit.auditCostShare * 100).toFixed(1)} % (target ≤ 20 %)` },
    { mode: 'with the log, tree on the same thread', 'signals/s': Math.round(submit.withAuditInlineSignalsPerSecond), cost: `${(submit.auditCostShareInline * 100).toFixed(1)} %` },
  ]);
  const verify = VERIFY_ENTRIES > 0 ? await verifyBench() : undefined;
  if (verify) {
    printTable('audit verify over HTTP', [
      { entries: verify['entries']!, 'build s': verify['buildSeconds']!, 'verify s': verify['verifySeconds']!, 'entries/s': Math.round(verify['entriesPerSecond']!), target: '≤ 60 s' },
    ]);
    const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(0);
    printTable('NDJSON export, streamed', [
      {
        lines: verify['exportLines']!,
        MiB: mib(verify['exportBytes']!),
        's': verify['exportSeconds']!,
        'server RSS before MiB': mib(verify['exportRssBeforeBytes']!),
        'server RSS peak MiB': mib(verify['exportRssPeakBytes']!),
      },
    ]);
  }
  console.log(`\nwritten ${writeResult('audit', { submit, ...(verify && { verify }) })}`);
}

await main();
