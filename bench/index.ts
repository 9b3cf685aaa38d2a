/**
 * `npm run bench:index` — the matching core's benchmark (issue 3). For each size (default 10 M,
 * 1 M, 100 k) and each generated data set (uniform, clustered), with the 1350 PDQ haystack
 * hashes planted among the rows: bulk build of the multi-index from a packed buffer, memory
 * (`memoryBytes` and RSS), one-thread queries at radius 31 and 10 (q/s, p50, p99), `searchMany`
 * on the worker pool (all queries in one call, and in calls of 1000), the linear scan on the same data in the same run (for the speed-up), a
 * check that both answer identically and that the PDQ needles find exactly the reference pairs,
 * and the average cost of `add` and `delete`. Then the PDQ fixture on its own. Every timed
 * figure is the median of `--rounds` rounds. Prints a table, writes `bench/results/index.json`.
 *
 * Options: --sizes=10M,1M,100k  --datasets=uniform,clustered  --queries=2000  --rounds=3
 *          --mutations=20000  --out=bench/results/index.json   (or BENCH_INDEX_SIZES=… etc.)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname } from 'node:path';
import type { HammingIndex, IndexMatch } from '../src/index/hamming-index.js';
import { LinearScanIndex } from '../src/index/linear-scan-index.js';
import { MultiIndexHashingIndex } from '../src/index/multi-index-hashing-index.js';
import { centreModelFor, clusteredHashes, defaultClusterModel } from './lib/clustered-hashes.js';
import type { HashSet } from './lib/hash-set.js';
import { loadPdqFixture, packHex, type PdqFixture } from './lib/pdq-fixture.js';
import { queryMix } from './lib/query-mix.js';
import { SeededRandom } from './lib/seeded-random.js';
import { uniformHashes } from './lib/uniform-hashes.js';

type DatasetName = 'uniform' | 'clustered';

interface BenchOptions {
  readonly sizes: number[];
  readonly datasets: DatasetName[];
  readonly queries: number;
  readonly rounds: number;
  readonly mutations: number;
  readonly out: string;
}

interface RadiusResult {
  readonly queriesPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly searchManyQueriesPerSecond: number;
  readonly searchManySpeedup: number;
  /** `searchMany` in calls of 1000 queries (a full POST /v1/match). */
  readonly searchMany1000QueriesPerSecond: number;
  readonly scanQueriesPerSecond: number;
  readonly speedupOverScan: number;
  readonly identicalToScan: boolean;
}

interface DatasetResult {
  readonly dataset: DatasetName;
  readonly size: number;
  readonly substrings: number;
  readonly buildSeconds: number;
  readonly scanBuildSeconds: number;
  readonly memoryBytes: number;
  readonly bytesPerHash: number;
  /** RSS of the whole process after the build (the generated data set and the scan index not yet built included)… */
  readonly rssBytes: number;
  /** …and its growth during the build: the index's own resident memory. */
  readonly rssGrowthBytes: number;
  readonly radius31: RadiusResult;
  readonly radius10: RadiusResult;
  readonly needlePairsExact: boolean;
  readonly addMicros: number;
  readonly deleteMicros: number;
  readonly merges: number;
  readonly mergeMillis: number;
  readonly exactAfterMutations: boolean;
}

const SEED = 20251122;

function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(text.trim());
  if (match === null) throw new Error(`bad size "${text}" (e.g. 10M, 250k, 5000)`);
  const scale = { '': 1, k: 1e3, K: 1e3, m: 1e6, M: 1e6 }[match[2]!]!;
  return Math.round(Number(match[1]) * scale);
}

function parseOptions(argv: readonly string[]): BenchOptions {
  const value = (name: string, env: string, fallback: string): string => {
    const flag = argv.find((arg) => arg.startsWith(`--${name}=`));
    return flag?.slice(name.length + 3) ?? process.env[env] ?? fallback;
  };
  const datasets = value('datasets', 'BENCH_INDEX_DATASETS', 'uniform,clustered').split(',');
  for (const name of datasets) if (name !== 'uniform' && name !== 'clustered') throw new Error(`unknown data set "${name}"`);
  return {
    sizes: value('sizes', 'BENCH_INDEX_SIZES', '10M,1M,100k').split(',').map(parseSize),
    datasets: datasets as DatasetName[],
    queries: Number(value('queries', 'BENCH_INDEX_QUERIES', '2000')),
    rounds: Number(value('rounds', 'BENCH_INDEX_ROUNDS', '3')),
    mutations: Number(value('mutations', 'BENCH_INDEX_MUTATIONS', '20000')),
    out: value('out', 'BENCH_INDEX_OUT', 'bench/results/index.json'),
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >>> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function query(queries: Uint8Array, q: number): Uint8Array {
  return queries.subarray(q * 32, q * 32 + 32);
}

/** Rounds of one-thread searches: median q/s, and the median round's p50 / p99 latency. */
function timeSearches(index: HammingIndex, queries: Uint8Array, radius: number, rounds: number): { qps: number; p50: number; p99: number } {
  const count = queries.length / 32;
  const perRound: { qps: number; p50: number; p99: number }[] = [];
  const latencies = new Float64Array(count);
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    for (let q = 0; q < count; q++) {
      const t0 = performance.now();
      index.search(query(queries, q), radius);
      latencies[q] = performance.now() - t0;
    }
    const elapsed = performance.now() - started;
    latencies.sort();
    perRound.push({ qps: (count * 1000) / elapsed, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) });
  }
  return { qps: median(perRound.map((r) => r.qps)), p50: median(perRound.map((r) => r.p50)), p99: median(perRound.map((r) => r.p99)) };
}

/** Rounds of `searchMany` over all the queries, in calls of `batch` queries: median q/s. */
async function timeSearchMany(index: HammingIndex, queries: Uint8Array, radius: number, rounds: number, batch = queries.length / 32): Promise<number> {
  const count = queries.length / 32;
  const rates: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    for (let first = 0; first < count; first += batch) await index.searchMany(queries.subarray(first * 32, Math.min(count, first + batch) * 32), radius);
    rates.push((count * 1000) / (performance.now() - started));
  }
  return median(rates);
}

function sameAnswers(a: IndexMatch[], b: IndexMatch[]): boolean {
  return a.length === b.length && a.every((match, i) => match.id === b[i]!.id && match.distance === b[i]!.distance);
}

function plantHaystack(set: HashSet, fixture: PdqFixture): { firstId: number } {
  const first = set.ids.length - fixture.haystack.length;
  set.hashes.set(packHex(fixture.haystack), first * 32);
  return { firstId: first + 1 };
}

function needlePairs(index: HammingIndex, fixture: PdqFixture, firstId: number): string[] {
  const lastId = firstId + fixture.haystack.length - 1;
  return fixture.needles
    .flatMap((needle, n) =>
      index
        .search(needle, 31)
        .filter((match) => match.id >= firstId && match.id <= lastId)
        .map((match) => `${n + 1}:${match.id - firstId + 1}:${match.distance}`),
    )
    .sort();
}

async function benchDataset(dataset: DatasetName, size: number, options: BenchOptions, fixture: PdqFixture): Promise<DatasetResult> {
  const set = dataset === 'uniform' ? uniformHashes(size, SEED) : clusteredHashes(size, SEED);
  const { firstId } = plantHaystack(set, fixture);
  const centres = centreModelFor(SEED, defaultClusterModel(size));
  const miss = (random: SeededRandom, out: Uint8Array, offset: number): void => {
    if (dataset === 'uniform') random.fill(new Uint32Array(out.buffer, out.byteOffset + offset, 8));
    else centres.centre(random, out, offset);
  };
  const queries = queryMix(set, options.queries, SEED + 1, miss);
  const log = (text: string): void => console.error(`[${dataset} ${size.toLocaleString('en')}] ${text}`);

  collectGarbage();
  const rssBefore = process.memoryUsage().rss;
  let started = performance.now();
  const index = new MultiIndexHashingIndex();
  index.addMany(set.ids, set.hashes);
  const buildSeconds = (performance.now() - started) / 1000;
  collectGarbage();
  const memoryBytes = index.memoryBytes;
  const rssBytes = process.memoryUsage().rss;
  log(`built in ${buildSeconds.toFixed(1)} s, m = ${index.substrings}, ${(memoryBytes / size).toFixed(1)} B/hash`);

  started = performance.now();
  const scan = new LinearScanIndex();
  scan.addMany(set.ids, set.hashes);
  const scanBuildSeconds = (performance.now() - started) / 1000;

  const scanCount = Math.min(options.queries, Math.max(20, Math.round(3e8 / size)));
  const scanQueries = queries.subarray(0, scanCount * 32);
  // Warm-up: optimised code on this thread and in the (long-lived) workers, as in a running
  // service; V8 compiles in the background, so give it two passes.
  timeSearches(index, queries, 31, 2);
  await timeSearchMany(index, queries, 31, 2);
  timeSearches(scan, scanQueries.subarray(0, 5 * 32), 31, 1);

  const radius = async (r: number): Promise<RadiusResult> => {
    const one = timeSearches(index, queries, r, options.rounds);
    const many = await timeSearchMany(index, queries, r, options.rounds);
    const many1000 = await timeSearchMany(index, queries, r, options.rounds, 1000);
    const scanOne = timeSearches(scan, scanQueries, r, options.rounds);
    let identical = true;
    for (let q = 0; q < scanCount; q++) identical &&= sameAnswers(index.search(query(queries, q), r), scan.search(query(queries, q), r));
    log(`r = ${r}: ${one.qps.toFixed(0)} q/s, searchMany ${many.toFixed(0)} q/s (${many1000.toFixed(0)} in calls of 1000), scan ${scanOne.qps.toFixed(1)} q/s`);
    return {
      queriesPerSecond: one.qps,
      p50Ms: one.p50,
      p99Ms: one.p99,
      searchManyQueriesPerSecond: many,
      searchManySpeedup: many / one.qps,
      searchMany1000QueriesPerSecond: many1000,
      scanQueriesPerSecond: scanOne.qps,
      speedupOverScan: one.qps / scanOne.qps,
      identicalToScan: identical,
    };
  };
  const radius31 = await radius(31);
  const radius10 = await radius(10);
  const needlePairsExact = JSON.stringify(needlePairs(index, fixture, firstId)) === JSON.stringify(fixture.pairs);

  // add / delete on the caller's thread, merges included.
  const random = new SeededRandom(SEED + 2);
  const added = queryMix(set, options.mutations, SEED + 3, miss);
  const mergesBefore = index.upkeep.merges;
  const mergeMillisBefore = index.upkeep.mergeMillis;
  started = performance.now();
  for (let i = 0; i < options.mutations; i++) index.add(size + 1 + i, query(added, i));
  const addMicros = ((performance.now() - started) * 1000) / options.mutations;
  const doomed = Array.from({ length: options.mutations }, () => 1 + random.below(size - fixture.haystack.length));
  started = performance.now();
  for (const id of doomed) index.delete(id);
  const deleteMicros = ((performance.now() - started) * 1000) / options.mutations;
  for (let i = 0; i < options.mutations; i++) scan.add(size + 1 + i, query(added, i));
  for (const id of doomed) scan.delete(id);
  let exactAfterMutations = true;
  for (let q = 0; q < scanCount; q++) exactAfterMutations &&= sameAnswers(index.search(query(queries, q), 31), scan.search(query(queries, q), 31));
  log(`add ${addMicros.toFixed(1)} µs, delete ${deleteMicros.toFixed(1)} µs, ${index.upkeep.merges - mergesBefore} merges`);

  await index.close();
  await scan.close();
  return {
    dataset,
    size,
    substrings: index.substrings,
    buildSeconds,
    scanBuildSeconds,
    memoryBytes,
    bytesPerHash: memoryBytes / size,
    rssBytes,
    rssGrowthBytes: rssBytes - rssBefore,
    radius31,
    radius10,
    needlePairsExact,
    addMicros,
    deleteMicros,
    merges: index.upkeep.merges - mergesBefore,
    mergeMillis: index.upkeep.mergeMillis - mergeMillisBefore,
    exactAfterMutations,
  };
}

async function benchFixture(fixture: PdqFixture, rounds: number): Promise<{ pairs: number; exact: boolean; queriesPerSecond: number }> {
  const index = new MultiIndexHashingIndex({ workers: 0 });
  index.addMany(Uint32Array.from(fixture.haystack, (_, i) => i + 1), packHex(fixture.haystack));
  const needles = packHex(fixture.needles);
  timeSearches(index, needles, 31, 1);
  const { qps } = timeSearches(index, needles, 31, rounds);
  const pairs = needlePairs(index, fixture, 1);
  await index.close();
  return { pairs: pairs.length, exact: JSON.stringify(pairs) === JSON.stringify(fixture.pairs), queriesPerSecond: qps };
}

interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
}

function checkTargets(results: readonly DatasetResult[]): TargetCheck[] {
  const at = (dataset: DatasetName): DatasetResult | undefined => results.find((r) => r.dataset === dataset && r.size === 10_000_000);
  const checks: TargetCheck[] = [];
  const add = (target: string, value: number | undefined, unit: string, met: (v: number) => boolean): void => {
    if (value !== undefined) checks.push({ target, measured: `${value.toFixed(value < 10 ? 2 : 0)} ${unit}`, met: met(value) });
  };
  const uniform = at('uniform');
  const clustered = at('clustered');
  add('uniform r=31 ≥ 2000 q/s', uniform?.radius31.queriesPerSecond, 'q/s', (v) => v >= 2000);
  add('clustered r=31 ≥ 500 q/s', clustered?.radius31.queriesPerSecond, 'q/s', (v) => v >= 500);
  for (const r of [uniform, clustered]) {
    if (r === undefined) continue;
    add(`${r.dataset} r=31 ≥ 20× the scan`, r.radius31.speedupOverScan, '×', (v) => v >= 20);
    add(`${r.dataset} r=31 p99 ≤ 5 ms`, r.radius31.p99Ms, 'ms', (v) => v <= 5);
    add(`${r.dataset} ≤ 100 bytes/hash`, r.bytesPerHash, 'B/hash', (v) => v <= 100);
    add(`${r.dataset} build ≤ 15 s`, r.buildSeconds, 's', (v) => v <= 15);
    add(`${r.dataset} add ≤ 50 µs`, r.addMicros, 'µs', (v) => v <= 50);
    add(`${r.dataset} delete ≤ 50 µs`, r.deleteMicros, 'µs', (v) => v <= 50);
    add(`${r.dataset} r=10 ≥ 10 000 q/s`, r.radius10.queriesPerSecond, 'q/s', (v) => v >= 10_000);
    add(`${r.dataset} searchMany r=31 ≥ 1.7× one thread`, r.radius31.searchManySpeedup, '×', (v) => v >= 1.7);
    checks.push({ target: `${r.dataset} answers identical to the scan, PDQ pairs exact`, measured: String(r.radius31.identicalToScan && r.radius10.identicalToScan && r.needlePairsExact && r.exactAfterMutations), met: r.radius31.identicalToScan && r.radius10.identicalToScan && r.needlePairsExact && r.exactAfterMutations });
  }
  return checks;
}

function printTable(results: readonly DatasetResult[]): void {
  const rows = results.map((r) => ({
    'data set': r.dataset,
    N: r.size.toLocaleString('en'),
    m: r.substrings,
    'build s': r.buildSeconds.toFixed(1),
    'B/hash': r.bytesPerHash.toFixed(1),
    'RSS MB (index)': `${(r.rssBytes / 2 ** 20).toFixed(0)} (${(r.rssGrowthBytes / 2 ** 20).toFixed(0)})`,
    'r31 q/s': r.radius31.queriesPerSecond.toFixed(0),
    'r31 p50 ms': r.radius31.p50Ms.toFixed(3),
    'r31 p99 ms': r.radius31.p99Ms.toFixed(3),
    'r31 ×scan': r.radius31.speedupOverScan.toFixed(0),
    'r31 many q/s': `${r.radius31.searchManyQueriesPerSecond.toFixed(0)} (${r.radius31.searchManySpeedup.toFixed(2)}×)`,
    'r31 many×1000 q/s': r.radius31.searchMany1000QueriesPerSecond.toFixed(0),
    'r10 q/s': r.radius10.queriesPerSecond.toFixed(0),
    'r10 p99 ms': r.radius10.p99Ms.toFixed(3),
    'r10 many q/s': `${r.radius10.searchManyQueriesPerSecond.toFixed(0)} (${r.radius10.searchManySpeedup.toFixed(2)}×)`,
    'scan r31 q/s': r.radius31.scanQueriesPerSecond.toFixed(1),
    'add µs': r.addMicros.toFixed(1),
    'delete µs': r.deleteMicros.toFixed(1),
    exact: r.radius31.identicalToScan && r.radius10.identicalToScan && r.needlePairsExact && r.exactAfterMutations ? 'yes' : 'NO',
  }));
  console.table(rows);
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const fixture = loadPdqFixture();
  const loadBefore = loadavg();
  const results: DatasetResult[] = [];
  // Smallest first, so that the RSS growth of each build is not blurred by memory of a larger run being returned.
  for (const size of [...options.sizes].sort((a, b) => a - b)) {
    for (const dataset of options.datasets) {
      results.push(await benchDataset(dataset, size, options, fixture));
      collectGarbage();
    }
  }
  const pdq = await benchFixture(fixture, options.rounds);
  printTable(results);
  console.log(`PDQ fixture (1350 haystack, 100 needles, r = 31): ${pdq.pairs} pairs, ${pdq.exact ? 'exactly the reference 250' : 'NOT the reference pairs'}, ${pdq.queriesPerSecond.toFixed(0)} q/s`);
  const targets = checkTargets(results);
  if (targets.length > 0) console.table(targets);
  const report = {
    meta: {
      date: new Date().toISOString(),
      node: process.version,
      cpu: cpus()[0]?.model ?? 'unknown',
      parallelism: availableParallelism(),
      loadAverageBefore: loadBefore,
      loadAverageAfter: loadavg(),
      options,
    },
    results,
    pdqFixture: pdq,
    targets,
  };
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(options.out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${options.out}`);
}

await main();
