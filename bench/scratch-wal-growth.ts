// Scratch experiment (issue 4, not a benchmark of the suite): under continuous batch submits, does
// the write-ahead log start over, and what does a batch cost while it cannot? One 1M-signal bank
// per upkeep setting (4096-byte pages): checkpoint every 1,000 ms (as served), every 100 ms, or
// never. Each bank takes BATCHES batches of 1,000 back to back, with GAP_MS of busy work on this
// thread between them standing in for the HTTP side of a request; settings in the order A B C
// then C B A. Reports per segment the median batch and how much the log file grew.
// Run: flock /tmp/signalbank-bench.lock node --max-old-space-size=6144 --import tsx bench/scratch-wal-growth.ts
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBenchBank, type BenchBank } from './lib/bench-bank.js';
import { median, percentile } from './lib/bench-report.js';
import { proofFor, randomPdqItems } from './lib/submit-round.js';
import { uniformHashes } from './lib/uniform-hashes.js';
import { BackgroundUpkeep } from '../src/store/sqlite/background-upkeep.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { AuditOrigin } from '../src/store/store.js';

const SIGNALS = Number(process.env['SIGNALS'] ?? 1_000_000);
const BATCHES = Number(process.env['BATCHES'] ?? 100);
const GAP_MS = Number(process.env['GAP_MS'] ?? 30);
const SETTINGS = [
  { name: 'checkpoint 1000 ms (served)', checkpointMs: 1000 },
  { name: 'checkpoint 1000 ms, RESTART above 16,384 frames', checkpointMs: 1000, restartLogAboveFrames: 16_384 },
  { name: 'checkpoint 100 ms, RESTART above 4,096 frames', checkpointMs: 100, restartLogAboveFrames: 4_096 },
];

interface Arm {
  readonly name: string;
  readonly bank: BenchBank;
  readonly store: SqliteStore;
  readonly upkeep: BackgroundUpkeep;
  readonly origin: AuditOrigin;
}

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

async function segment(arm: Arm): Promise<Record<string, number | string>> {
  const wal = `${arm.bank.dbPath}-wal`;
  const times: number[] = [];
  const startSize = statSync(wal).size;
  let grew = 0;
  let previous = startSize;
  for (let i = 0; i < BATCHES; i++) {
    const items = randomPdqItems(1000);
    const t = performance.now();
    await arm.store.submitSignals('bench-submitter', items, arm.origin);
    times.push(performance.now() - t);
    const size = statSync(wal).size;
    if (size > previous) grew++;
    previous = size;
    await new Promise((resolve) => setImmediate(resolve));
    busy(GAP_MS);
  }
  return {
    setting: arm.name,
    medianBatchMs: +median(times).toFixed(1),
    meanBatchMs: +(times.reduce((a, b) => a + b, 0) / times.length).toFixed(1),
    p90BatchMs: +percentile(times, 90).toFixed(1),
    maxBatchMs: +Math.max(...times).toFixed(1),
    firstHalfMs: +median(times.slice(0, BATCHES / 2)).toFixed(1),
    secondHalfMs: +median(times.slice(BATCHES / 2)).toFixed(1),
    batchesThatGrewTheLog: grew,
    logMiBBefore: Math.round(startSize / 2 ** 20),
    logMiBAfter: Math.round(previous / 2 ** 20),
  };
}

async function main(): Promise<void> {
  const set = uniformHashes(SIGNALS, 7);
  const arms: Arm[] = [];
  const dirs: string[] = [];
  try {
    for (const setting of SETTINGS) {
      const dir = mkdtempSync(join(tmpdir(), 'sb-wal-'));
      dirs.push(dir);
      const bank = await buildBenchBank(dir, set);
      const store = SqliteStore.open({ path: bank.dbPath });
      const upkeep = BackgroundUpkeep.start(store.db, { checkpointMs: setting.checkpointMs, ...('restartLogAboveFrames' in setting && { restartLogAboveFrames: setting.restartLogAboveFrames }) });
      arms.push({ name: setting.name, bank, store, upkeep, origin: { actor: 'bench-submitter', kid: bank.submitter.kid, proof: await proofFor(bank.submitter) } });
    }
    const rows = [];
    for (const arm of [...arms, ...[...arms].reverse()]) {
      rows.push(await segment(arm));
      process.stderr.write(`${JSON.stringify(rows.at(-1))}\n`);
      // Let every log settle between segments, so no segment starts behind on another's account.
      await new Promise((resolve) => setTimeout(resolve, 3000));
    }
    console.log(JSON.stringify({ loadAverage: loadavg(), signals: SIGNALS, batches: BATCHES, gapMs: GAP_MS }));
    console.table(rows);
  } finally {
    for (const arm of arms) {
      await arm.upkeep.stop();
      await arm.store.close();
    }
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
