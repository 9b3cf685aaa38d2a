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
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyLog } from '../src/audit/verify-log.js';
import { generateMemberKeyPair, parsePublicJwk } from '../src/auth/member-keys.js';
import { initialiseBank } from '../src/bank/initialise-bank.js';
import { auditLogSource } from '../src/client/audit-log-source.js';
import { SignalbankClient } from '../src/client/signalbank-client.js';
import { signingKeyFromJwk, signRequest, type SigningKey } from '../src/client/sign-request.js';
import { BackgroundUpkeep } from '../src/store/sqlite/background-upkeep.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { SubmissionInput } from '../src/store/store.js';
import { median, printTable, writeResult } from './lib/bench-report.js';
import { memoryOf, startServeChild } from './lib/serve-child.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const BATCHES = Number(process.env['AUDIT_BATCHES'] ?? 100);
const BATCH_SIZE = 1000;
const VERIFY_ENTRIES = Number(process.env['AUDIT_VERIFY_ENTRIES'] ?? 1_000_000);

/** Random PDQ-like hashes (about 128 of 256 bits set, never degenerate). */
function items(count: number): SubmissionInput[] {
  return Array.from({ length: count }, () => ({ type: 'pdq', hash: randomBytes(32).toString('hex'), labels: ['suicide'], media: 'image', quality: 90 }));
}

async function proofFor(key: SigningKey): Promise<string> {
  const header = await signRequest(key, { method: 'POST', target: '/v1/signals', body: randomBytes(64) });
  return header.slice('JWS '.length);
}

type Mode = 'without' | 'background' | 'inline';

/** Signals per second for BATCHES batches of 1,000 items into a fresh database. */
async function submitRound(mode: Mode, key: SigningKey): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-audit-'));
  const path = join(dir, 'bank.db');
  const store = SqliteStore.open({ path, appendAuditEntries: mode !== 'without' });
  // As served: the upkeep worker runs (checkpointing the WAL; keeping the tree when there is a log).
  const builder = mode === 'inline' ? undefined : BackgroundUpkeep.start(store.db);
  try {
    await store.createMember({ id: 'bench', name: 'Bench', roles: ['submitter'] }, { actor: 'operator', kid: null, proof: null });
    const batches = Array.from({ length: BATCHES }, () => items(BATCH_SIZE));
    const proofs = await Promise.all(batches.map(() => proofFor(key)));
    const started = performance.now();
    for (const [i, batch] of batches.entries()) {
      await store.submitSignals('bench', batch, { actor: 'bench', kid: key.kid, proof: proofs[i]! });
      // Inline: the tree is kept on this thread after every transaction.
      if (mode === 'inline') await store.auditTreeHead();
      // Background: let the worker run as it would between requests.
      if (mode === 'background') await new Promise((resolve) => setImmediate(resolve));
    }
    // Count the time until the tree holds every entry (the worker's, or catching up here).
    if (mode === 'background') while (await treeBehind(store)) await new Promise((resolve) => setTimeout(resolve, 5));
    const seconds = (performance.now() - started) / 1000;
    if (mode !== 'without' && (await store.auditTreeHead()).treeSize !== BATCHES * BATCH_SIZE + 1) throw new Error('the tree missed entries');
    return (BATCHES * BATCH_SIZE) / seconds;
  } finally {
    await builder?.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function treeBehind(store: SqliteStore): Promise<boolean> {
  const entries = (store.db.prepare('SELECT max(seq) AS n FROM audit_entries').get() as { n: number }).n;
  // The worker records whole chunks of 16 entries; the last, incomplete one is composed on read.
  const chunks = (store.db.prepare('SELECT count(*) AS n FROM audit_leaf_chunks').get() as { n: number }).n;
  return entries >= (chunks + 1) * 16;
}

/** Streams the whole NDJSON export, sampling the server's RSS: it must stay flat however long the log. */
async function exportBench(client: SignalbankClient, pid: number): Promise<Record<string, number>> {
  const rssOf = (): number => memoryOf(pid).rssBytes;
  const rssBefore = rssOf();
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssOf())), 50);
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
      await store.submitSignals('bench', items(BATCH_SIZE), { actor: 'bench', kid: signing.kid, proof: await proofFor(signing) });
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
  const samples: Record<Mode, number[]> = { without: [], background: [], inline: [] };
  const modes: Mode[] = ['without', 'background', 'inline'];
  for (let round = 0; round < ROUNDS; round++) {
    const order = [...modes.slice(round % 3), ...modes.slice(0, round % 3)];
    for (const mode of order) samples[mode].push(await submitRound(mode, key));
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
