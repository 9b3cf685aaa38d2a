// Scratch experiment (issue 4, not a benchmark of the suite): does a smaller SQLite page size make
// batch submits cheaper at 1M signals? One bank of 1M uniform PDQ signals per page size (bulk
// loaded as bench:http does), all open at once in this process, each with its upkeep worker as
// served; then, alternating page sizes in rotating order, batches of 1,000 new signals through
// the store's real submit path (audit entries, feed rows, synchronous=FULL). Afterwards: WAL
// bytes per batch (log truncated before a batch, its size after), the index-load scan, single
// lookups by public id, by (type, hash) and by row ids, and the file sizes.
// Run: flock /tmp/signalbank-bench.lock node --max-old-space-size=6144 --import tsx bench/scratch-page-size.ts
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBenchBank, type BenchBank } from './lib/bench-bank.js';
import { median } from './lib/bench-report.js';
import { SeededRandom } from './lib/seeded-random.js';
import { proofFor, randomPdqItems } from './lib/submit-round.js';
import { uniformHashes } from './lib/uniform-hashes.js';
import { openDatabase } from '../src/store/sqlite/database.js';
import { BackgroundUpkeep } from '../src/store/sqlite/background-upkeep.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { AuditOrigin } from '../src/store/store.js';

const PAGE_SIZES = (process.env['PAGE_SIZES'] ?? '4096,2048,1024').split(',').map(Number);
const SIGNALS = Number(process.env['SIGNALS'] ?? 1_000_000);
const ROUNDS = Number(process.env['ROUNDS'] ?? 30);
const BATCHES_PER_TURN = Number(process.env['BATCHES_PER_TURN'] ?? 2);
const WAL_SAMPLES = 6;
const SPLIT_SAMPLES = Number(process.env['SPLIT_SAMPLES'] ?? 30);
const LOOKUPS = 20_000;
const SCAN_REPEATS = 3;
/** Page cache of every bank's connection in MiB (the same bytes whatever the page size); default SQLite's 2 MB. */
const CACHE_MIB = process.env['CACHE_MIB'];

interface Arm {
  readonly pageSize: number;
  readonly bank: BenchBank;
  readonly store: SqliteStore;
  readonly upkeep: BackgroundUpkeep;
  readonly origin: AuditOrigin;
  readonly batchMs: number[];
  readonly turnSignalsPerSecond: number[];
  readonly walBytes: number[];
  readonly walPages: number[];
  readonly scanMs: number[];
  readonly byIdUs: number[];
  readonly byHashUs: number[];
  readonly byRowIdsUs: number[];
  readonly bodyMs: number[];
  readonly commitMs: number[];
  /** The log's file size after each timed batch (it grows while checkpoints cannot reset it). */
  readonly walFileMiB: number[];
}

const dirs: string[] = [];

function rotated<T>(items: readonly T[], by: number): T[] {
  return [...items.slice(by % items.length), ...items.slice(0, by % items.length)];
}

async function buildArm(pageSize: number, set: ReturnType<typeof uniformHashes>): Promise<Arm> {
  const dir = mkdtempSync(join(tmpdir(), `sb-page-${pageSize}-`));
  dirs.push(dir);
  // The bank file is created with the page size before `init` runs its migrations on it.
  openDatabase(join(dir, 'bank.db'), { pageSize }).close();
  const bank = await buildBenchBank(dir, set);
  const store = SqliteStore.open({ path: bank.dbPath });
  const actual = store.db.pragma('page_size', { simple: true }) as number;
  if (actual !== pageSize) throw new Error(`asked for ${pageSize}-byte pages, got ${actual}`);
  if (CACHE_MIB !== undefined) store.db.pragma(`cache_size = -${Number(CACHE_MIB) * 1024}`);
  const upkeep = BackgroundUpkeep.start(store.db);
  const origin = { actor: 'bench-submitter', kid: bank.submitter.kid, proof: await proofFor(bank.submitter) };
  process.stderr.write(`page ${pageSize}: ${bank.signals} signals in ${bank.setupSeconds.toFixed(1)} s, ${(statSync(bank.dbPath).size / 2 ** 20).toFixed(1)} MiB\n`);
  return { pageSize, bank, store, upkeep, origin, batchMs: [], turnSignalsPerSecond: [], walBytes: [], walPages: [], scanMs: [], byIdUs: [], byHashUs: [], byRowIdsUs: [], bodyMs: [], commitMs: [], walFileMiB: [] };
}

/** Random existing signals of a bank (their public ids differ per bank; hashes and row ids do not). */
function sampleSignals(store: SqliteStore, count: number, seed: number): { publicIds: string[]; hashes: string[]; rowIds: number[] } {
  const random = new SeededRandom(seed);
  const max = (store.db.prepare('SELECT max(id) AS n FROM signals').get() as { n: number }).n;
  const row = store.db.prepare<[number], { public_id: string; hash: Buffer }>('SELECT public_id, hash FROM signals WHERE id = ?');
  const publicIds: string[] = [];
  const hashes: string[] = [];
  const rowIds: number[] = [];
  while (publicIds.length < count) {
    const id = 1 + random.below(max);
    const found = row.get(id);
    if (!found) continue;
    publicIds.push(found.public_id);
    hashes.push(found.hash.toString('hex'));
    rowIds.push(id);
  }
  return { publicIds, hashes, rowIds };
}

async function submitTurn(arm: Arm): Promise<void> {
  const batches = Array.from({ length: BATCHES_PER_TURN }, () => randomPdqItems(1000));
  const started = performance.now();
  for (const items of batches) {
    const t = performance.now();
    await arm.store.submitSignals('bench-submitter', items, arm.origin);
    arm.batchMs.push(performance.now() - t);
    arm.walFileMiB.push(statSync(`${arm.bank.dbPath}-wal`).size / 2 ** 20);
    // As between requests: the upkeep worker's tree rows are recorded here.
    await new Promise((resolve) => setImmediate(resolve));
  }
  arm.turnSignalsPerSecond.push((BATCHES_PER_TURN * 1000) / ((performance.now() - started) / 1000));
}

/**
 * One batch split in two: the statements (the store's transaction nested as a savepoint inside
 * an explicit `BEGIN IMMEDIATE`) and the `COMMIT` (the log written and synced).
 */
async function splitSample(arm: Arm): Promise<void> {
  const items = randomPdqItems(1000);
  arm.store.db.exec('BEGIN IMMEDIATE');
  const started = performance.now();
  await arm.store.submitSignals('bench-submitter', items, arm.origin);
  const body = performance.now();
  arm.store.db.exec('COMMIT');
  arm.commitMs.push(performance.now() - body);
  arm.bodyMs.push(body - started);
  arm.walFileMiB.push(statSync(`${arm.bank.dbPath}-wal`).size / 2 ** 20);
  await new Promise((resolve) => setImmediate(resolve));
}

/** Bytes the commit of one batch appends to the write-ahead log (the log truncated just before). */
async function walSample(arm: Arm): Promise<void> {
  const wal = `${arm.bank.dbPath}-wal`;
  arm.store.db.pragma('wal_checkpoint(TRUNCATE)');
  const before = statSync(wal).size;
  await arm.store.submitSignals('bench-submitter', randomPdqItems(1000), arm.origin);
  const bytes = statSync(wal).size - before;
  arm.walBytes.push(bytes);
  arm.walPages.push((bytes - (before === 0 ? 32 : 0)) / (arm.pageSize + 24));
}

async function scan(arm: Arm): Promise<void> {
  const started = performance.now();
  let rows = 0;
  for await (const batch of arm.store.indexEntries('pdq')) rows += batch.ids.length;
  arm.scanMs.push(performance.now() - started);
  if (rows < SIGNALS * 0.99) throw new Error(`the scan read ${rows} rows`);
}

async function lookups(arm: Arm, sample: ReturnType<typeof sampleSignals>): Promise<void> {
  let t = performance.now();
  for (const id of sample.publicIds) if (!(await arm.store.getSignal(id, 'bench-submitter'))) throw new Error('lost a signal');
  arm.byIdUs.push(((performance.now() - t) * 1000) / sample.publicIds.length);
  t = performance.now();
  for (const hash of sample.hashes) if (!(await arm.store.findSignal('pdq', hash, 'bench-submitter'))) throw new Error('lost a hash');
  arm.byHashUs.push(((performance.now() - t) * 1000) / sample.hashes.length);
  // A match answer's rows: ten row ids at a time.
  t = performance.now();
  for (let i = 0; i < sample.rowIds.length; i += 10) await arm.store.getSignalsByRowIds(sample.rowIds.slice(i, i + 10));
  arm.byRowIdsUs.push(((performance.now() - t) * 1000) / (sample.rowIds.length / 10));
}

/**
 * The timed batches after which the log file had grown (appended: the checkpoint had not caught
 * up, so the writer could not start the log over) or had not (the log reused from its start).
 */
function stateBatches(arm: Arm, growing: boolean): number[] {
  return arm.batchMs.filter((_, i) => i > 0 && arm.walFileMiB[i]! > arm.walFileMiB[i - 1]! === growing);
}

function treeDepths(arm: Arm): Record<string, number> {
  try {
    const rows = arm.store.db
      .prepare<[], { name: string; pages: number; depth: number }>(
        `SELECT name, count(*) AS pages, max(length(path) - length(replace(path, '/', ''))) AS depth FROM dbstat
         WHERE name IN ('signals', 'sqlite_autoindex_signals_1', 'sqlite_autoindex_signals_2', 'audit_entries', 'signal_changes') GROUP BY name`,
      )
      .all();
    return Object.fromEntries(rows.flatMap((row) => [[`${row.name} pages`, row.pages], [`${row.name} depth`, row.depth]]));
  } catch (error) {
    return { dbstatUnavailable: 1, error: String(error).length };
  }
}

async function main(): Promise<void> {
  const set = uniformHashes(SIGNALS, 7);
  const arms: Arm[] = [];
  try {
    for (const pageSize of PAGE_SIZES) arms.push(await buildArm(pageSize, set));
    // Warm-up: a few batches each, not counted.
    for (const arm of arms) for (let i = 0; i < 3; i++) await arm.store.submitSignals('bench-submitter', randomPdqItems(1000), arm.origin);
    for (let round = 0; round < ROUNDS; round++) {
      for (const arm of rotated(arms, round)) await submitTurn(arm);
      if (round % 5 === 4) process.stderr.write(`round ${round + 1}/${ROUNDS}: ${arms.map((a) => `${a.pageSize} ${median(a.batchMs).toFixed(1)} ms`).join(', ')}\n`);
    }
    for (let i = 0; i < SPLIT_SAMPLES; i++) for (const arm of rotated(arms, i)) await splitSample(arm);
    for (let i = 0; i < WAL_SAMPLES; i++) for (const arm of rotated(arms, i)) await walSample(arm);
    for (let i = 0; i < SCAN_REPEATS; i++) for (const arm of rotated(arms, i)) await scan(arm);
    const samples = new Map(arms.map((arm) => [arm, sampleSignals(arm.store, LOOKUPS, 11)]));
    for (let i = 0; i < 5; i++) for (const arm of rotated(arms, i)) await lookups(arm, samples.get(arm)!);

    const base = arms[0]!;
    const table = arms.map((arm) => {
      arm.store.db.pragma('wal_checkpoint(TRUNCATE)');
      return {
        pageSize: arm.pageSize,
        batches: arm.batchMs.length,
        medianBatchMs: +median(arm.batchMs).toFixed(1),
        batchVsBase: +(median(arm.batchMs) / median(base.batchMs)).toFixed(3),
        signalsPerSecondFromBatch: Math.round(1_000_000 / median(arm.batchMs)),
        medianTurnSignalsPerSecond: Math.round(median(arm.turnSignalsPerSecond)),
        reusedLogBatchMs: +median(stateBatches(arm, false)).toFixed(1),
        reusedLogBatches: stateBatches(arm, false).length,
        growingLogBatchMs: +median(stateBatches(arm, true)).toFixed(1),
        growingLogBatches: stateBatches(arm, true).length,
        // Inflated: inside an explicit transaction the store's own is a savepoint, which journals every page it changes.
        statementsInSavepointMs: +median(arm.bodyMs).toFixed(1),
        commitMs: +median(arm.commitMs).toFixed(1),
        walKiBPerBatch: Math.round(median(arm.walBytes) / 1024),
        walPagesPerBatch: Math.round(median(arm.walPages)),
        scanMs: Math.round(median(arm.scanMs)),
        scanVsBase: +(median(arm.scanMs) / median(base.scanMs)).toFixed(3),
        byIdUs: +median(arm.byIdUs).toFixed(1),
        byHashUs: +median(arm.byHashUs).toFixed(1),
        byTenRowIdsUs: +median(arm.byRowIdsUs).toFixed(1),
        dbMiB: +(statSync(arm.bank.dbPath).size / 2 ** 20).toFixed(1),
        ...treeDepths(arm),
        raw: { batchMs: arm.batchMs.map(Math.round), bodyMs: arm.bodyMs.map(Math.round), commitMs: arm.commitMs.map(Math.round), walFileMiB: arm.walFileMiB.map(Math.round) },
      };
    });
    console.log(JSON.stringify({ loadAverage: loadavg(), signals: SIGNALS, cacheMiB: CACHE_MIB ?? 'default', rounds: ROUNDS, batchesPerTurn: BATCHES_PER_TURN, table }, null, 2));
    console.table(table.map(({ pageSize, medianBatchMs, batchVsBase, signalsPerSecondFromBatch, medianTurnSignalsPerSecond, reusedLogBatchMs, growingLogBatchMs, commitMs, walKiBPerBatch, walPagesPerBatch, scanMs, scanVsBase, byIdUs, byHashUs, byTenRowIdsUs, dbMiB }) => ({ pageSize, medianBatchMs, batchVsBase, signalsPerSecondFromBatch, medianTurnSignalsPerSecond, reusedLogBatchMs, growingLogBatchMs, commitMs, walKiBPerBatch, walPagesPerBatch, scanMs, scanVsBase, byIdUs, byHashUs, byTenRowIdsUs, dbMiB })));
  } finally {
    for (const arm of arms) {
      await arm.upkeep.stop();
      await arm.store.close();
    }
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
