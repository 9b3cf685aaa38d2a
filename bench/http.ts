// `npm run bench:http`: the HTTP service under load (issue 4), against a bank of HTTP_SIGNALS
// (default 1,000,000) PDQ signals served by `signalbank serve` in a child process on 127.0.0.1.
//  1. Index load at start: spawn → `/readyz` ready, the index load the service logs, and RSS.
//  2. Signed `GET /v1/match` (one query, radius 31), `POST /v1/match` (1,000 queries a request)
//     and `POST /v1/signals` (1,000 and 10,000 new signals a request, durable when answered),
//     with autocannon. Every request carries its own SPEC §3 token (own jti, bound to its method,
//     target and body digest), all signed before the measured window and handed to autocannon by
//     `setupRequest`, so signing never throttles the load generator. Each run sends a fixed number
//     of requests (sized to about RUN_SECONDS from a warm-up) and any non-2xx answer, error or
//     timeout fails the benchmark. Medians of BENCH_ROUNDS runs.
//  3. `--profile`: where the time of one `POST /v1/match` goes, stage by stage, by running the
//     service's own functions in this process over the same database (see bench/lib/match-stages.ts).
//  4. `--load-10m`: index load time and RSS for 10,000,000 signals (several GB of disk, minutes).
//     `--load-only` skips 2 and 3; `--cpu-prof` runs each load against its own server under
//     `node --cpu-prof` and prints its main thread's self time by stage. Every run also reports
//     the CPU time per request of the server (all threads, /proc) and of the load generator.
//     `HTTP_ONLY=<part of a name>` runs only the matching scenarios.
// Table on stdout, JSON in bench/results/http.json (http-cpu-prof.json with --cpu-prof,
// http-load.json with --load-only, http-partial.json with HTTP_ONLY). Run under `flock /tmp/signalbank-bench.lock`.
import autocannon, { type AutocannonRequest } from 'autocannon';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { signRequest, type SigningKey } from '../src/client/sign-request.js';
import { bytesToHex, popcountHex } from '../src/signals/hex.js';
import { buildBenchBank, type BenchBank } from './lib/bench-bank.js';
import { median, percentile, printTable, writeResult } from './lib/bench-report.js';
import { centreModelFor, clusteredHashes, defaultClusterModel } from './lib/clustered-hashes.js';
import type { HashSet } from './lib/hash-set.js';
import { profileMatchStages, type StageProfile } from './lib/match-stages.js';
import { summariseCpuProfile, type CpuSummary } from './lib/cpu-profile-summary.js';
import { queryMix } from './lib/query-mix.js';
import { SeededRandom } from './lib/seeded-random.js';
import { cpuSecondsOf } from './lib/process-memory.js';
import { memoryOf, startServeChild, type ServeChild } from './lib/serve-child.js';
import { uniformHash } from './lib/uniform-hashes.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const SIGNALS = Number(process.env['HTTP_SIGNALS'] ?? 1_000_000);
const RUN_SECONDS = Number(process.env['HTTP_RUN_SECONDS'] ?? 8);
const RADIUS = 31;
const SEED = 20_261_129;
const PROFILE = process.argv.includes('--profile');
const LOAD_10M = process.argv.includes('--load-10m');
/** Every scenario against its own server started with `node --cpu-prof`; the profiles summarised. */
const CPU_PROF = process.argv.includes('--cpu-prof');
/** Only the index load figures (no load runs). */
const LOAD_ONLY = process.argv.includes('--load-only');
/** `HTTP_ONLY=GET` (or any part of a scenario's name): only the scenarios whose name holds it. */
const ONLY = process.env['HTTP_ONLY'];
/** The service as configured for the benchmark: no per-member rate limit (it would answer 429). */
const SERVICE_ENV = { SIGNALBANK_RATE_LIMIT_PER_SECOND: '0' };
const MIB = 2 ** 20;
const TARGETS: Record<string, string> = {
  'GET /v1/match (1 query, radius 31)': '≥ 2,000 req/s, p99 ≤ 20 ms',
  'POST /v1/match (1,000 queries, radius 31)': '≥ 100,000 queries/s',
  'POST /v1/signals (1,000 new signals)': '≥ 20,000 signals/s',
  'POST /v1/signals (10,000 new signals)': '≥ 20,000 signals/s',
};

interface PlannedRequest {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: Buffer;
}

interface Scenario {
  readonly name: string;
  /** What one request carries: queries or signals. */
  readonly unit: string;
  readonly unitsPerRequest: number;
  readonly connections: number;
  readonly key: SigningKey;
  readonly warmupRequests: number;
  /** The i-th request of the benchmark (never repeats a body where the API would see a duplicate). */
  request(i: number): PlannedRequest;
}

interface RunFigures {
  readonly requests: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly unitsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly failed: number;
  /** CPU time per request of the server process (all its threads) and of this load generator. */
  readonly serverCpuMsPerRequest: number;
  readonly loadGeneratorCpuMsPerRequest: number;
}

const tmpIn = (parent: string, prefix: string): string => mkdtempSync(join(parent, prefix));

/** Signs `count` requests from `first` on; each token is good for 300 s and used once. */
async function presign(scenario: Scenario, first: number, count: number): Promise<AutocannonRequest[]> {
  const signed: AutocannonRequest[] = [];
  for (let i = first; i < first + count; i++) {
    const planned = scenario.request(i);
    const authorization = await signRequest(scenario.key, { method: planned.method, target: planned.path, body: planned.body }, { lifetimeSeconds: 300 });
    signed.push({
      method: planned.method,
      path: planned.path,
      headers: planned.body ? { authorization, 'content-type': 'application/json' } : { authorization },
      ...(planned.body && { body: planned.body }),
    });
  }
  return signed;
}

let nextRequestIndex = 0;

/** Sends `amount` pre-signed requests over `connections` connections; throws on any failure. */
async function loadRun(server: { url: string; pid: number }, scenario: Scenario, amount: number): Promise<RunFigures> {
  const first = nextRequestIndex;
  // Every connection builds one request ahead of what it sends.
  const pool = await presign(scenario, first, amount + 2 * scenario.connections);
  nextRequestIndex += pool.length;
  let taken = 0;
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const started = performance.now();
  const serverCpuBefore = cpuSecondsOf(server.pid);
  const ownCpuBefore = process.cpuUsage();
  const instance = autocannon({
    url: server.url,
    connections: scenario.connections,
    amount,
    timeout: 60,
    requests: [
      {
        setupRequest: () => {
          const next = pool[taken++];
          if (!next) throw new Error('the pre-signed pool ran out');
          return next;
        },
      },
    ],
  });
  // autocannon resolves only at its next once-a-second sample after the last answer, so the run
  // ends at the last answer, not when the promise resolves (that rounded runs up to whole seconds).
  let lastAnswerAt = started;
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    lastAnswerAt = performance.now();
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    if (status >= 200 && status < 300) latencies.push(ms);
  });
  const result = await instance;
  const seconds = (lastAnswerAt - started) / 1000;
  const serverCpuSeconds = cpuSecondsOf(server.pid) - serverCpuBefore;
  const ownCpu = process.cpuUsage(ownCpuBefore);
  const ok = latencies.length;
  const failed = result.errors + result.timeouts + result.non2xx;
  if (failed > 0 || ok !== amount) {
    throw new Error(`${scenario.name}: ${failed} failed requests (errors ${result.errors}, timeouts ${result.timeouts}, status ${JSON.stringify([...statuses])}), ${ok}/${amount} answered 2xx`);
  }
  return {
    requests: ok,
    seconds,
    requestsPerSecond: ok / seconds,
    unitsPerSecond: (ok * scenario.unitsPerRequest) / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: Math.max(...latencies),
    failed,
    serverCpuMsPerRequest: (serverCpuSeconds * 1000) / ok,
    loadGeneratorCpuMsPerRequest: (ownCpu.user + ownCpu.system) / 1000 / ok,
  };
}

/** Queries as hex: half near-duplicates of stored signals (0–40 bits away), half misses; none degenerate. */
function queryHexes(set: HashSet, count: number): string[] {
  const centres = centreModelFor(SEED, defaultClusterModel(set.ids.length));
  const packed = queryMix(set, count * 2, SEED + 1, (random, out, offset) => centres.centre(random, out, offset));
  const hexes: string[] = [];
  for (let q = 0; q < count * 2 && hexes.length < count; q++) {
    const hex = bytesToHex(packed, q * 32, 32);
    const bits = popcountHex(hex);
    if (bits >= 32 && bits <= 224) hexes.push(hex);
  }
  return hexes;
}

/** `count` new PDQ submission items, never stored before (fresh uniform hashes). */
function newItems(random: SeededRandom, count: number): Record<string, unknown>[] {
  const items: Record<string, unknown>[] = [];
  while (items.length < count) {
    const hex = bytesToHex(uniformHash(random));
    const bits = popcountHex(hex);
    if (bits < 32 || bits > 224) continue;
    items.push({ type: 'pdq', hash: hex, labels: ['suicide'], media: 'image', quality: 90 });
  }
  return items;
}

function scenarios(bank: BenchBank, queries: readonly string[]): Scenario[] {
  const matchBodies = Array.from({ length: 16 }, (_, b) =>
    Buffer.from(JSON.stringify({ queries: Array.from({ length: 1000 }, (_, q) => ({ type: 'pdq', hash: queries[(b * 1000 + q) % queries.length]!, maxDistance: RADIUS })) })),
  );
  const submitRandom = new SeededRandom(SEED + 7);
  const submit = (name: string, size: number, connections: number, warmupRequests: number): Scenario => ({
    name,
    unit: 'signals',
    unitsPerRequest: size,
    connections,
    key: bank.submitter,
    warmupRequests,
    request: () => ({ method: 'POST', path: '/v1/signals', body: Buffer.from(JSON.stringify({ signals: newItems(submitRandom, size) })) }),
  });
  return [
    {
      name: 'GET /v1/match (1 query, radius 31)',
      unit: 'queries',
      unitsPerRequest: 1,
      connections: 10,
      key: bank.matcher,
      warmupRequests: 2000,
      request: (i) => ({ method: 'GET', path: `/v1/match?type=pdq&hash=${queries[i % queries.length]!}&maxDistance=${RADIUS}` }),
    },
    {
      name: 'POST /v1/match (1,000 queries, radius 31)',
      unit: 'queries',
      unitsPerRequest: 1000,
      connections: 4,
      key: bank.matcher,
      warmupRequests: 20,
      request: (i) => ({ method: 'POST', path: '/v1/match', body: matchBodies[i % matchBodies.length]! }),
    },
    submit('POST /v1/signals (1,000 new signals)', 1000, 4, 10),
    submit('POST /v1/signals (10,000 new signals)', 10_000, 2, 4),
  ];
}

interface ScenarioFigures {
  readonly name: string;
  readonly unit: string;
  readonly unitsPerRequest: number;
  readonly connections: number;
  readonly requestsPerRun: number;
  readonly requestsPerSecond: number;
  readonly unitsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly serverCpuMsPerRequest: number;
  readonly loadGeneratorCpuMsPerRequest: number;
  readonly warmupSeconds: number;
  readonly runs: RunFigures[];
}

async function measureScenario(server: { url: string; pid: number }, scenario: Scenario): Promise<ScenarioFigures> {
  const warmup = await loadRun(server, scenario, scenario.warmupRequests);
  const amount = Math.max(scenario.connections * 2, Math.round(warmup.requestsPerSecond * RUN_SECONDS));
  const runs: RunFigures[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    runs.push(await loadRun(server, scenario, amount));
    const last = runs[runs.length - 1]!;
    process.stderr.write(`  ${scenario.name}: run ${round + 1}/${ROUNDS}: ${Math.round(last.requestsPerSecond)} req/s, p99 ${last.p99Ms.toFixed(1)} ms, CPU per request: server ${last.serverCpuMsPerRequest.toFixed(2)} ms, load generator ${last.loadGeneratorCpuMsPerRequest.toFixed(2)} ms\n`);
  }
  return {
    name: scenario.name,
    unit: scenario.unit,
    unitsPerRequest: scenario.unitsPerRequest,
    connections: scenario.connections,
    requestsPerRun: amount,
    requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
    unitsPerSecond: median(runs.map((r) => r.unitsPerSecond)),
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    serverCpuMsPerRequest: median(runs.map((r) => r.serverCpuMsPerRequest)),
    loadGeneratorCpuMsPerRequest: median(runs.map((r) => r.loadGeneratorCpuMsPerRequest)),
    warmupSeconds: warmup.seconds,
    runs,
  };
}

interface LoadFigures {
  readonly signals: number;
  readonly setupSeconds: number;
  readonly readySeconds: number;
  readonly indexLoadSeconds: number;
  readonly rssMiB: number;
  readonly peakRssMiB: number;
  readonly starts: { readySeconds: number; indexLoadSeconds: number; rssMiB: number; peakRssMiB: number }[];
}

/** Starts the service `ROUNDS` times on the database; answers the figures and the last, still running, service. */
async function measureLoad(bank: BenchBank, dir: string, keepLast: boolean): Promise<{ figures: LoadFigures; service: ServeChild | undefined }> {
  const starts: LoadFigures['starts'] = [];
  let service: ServeChild | undefined;
  for (let round = 0; round < ROUNDS; round++) {
    service = await startServeChild(bank.dbPath, { logFile: join(dir, `serve-${round}.log`), env: SERVICE_ENV });
    const loaded = service.indexSizes['pdq'] ?? 0;
    if (loaded !== bank.signals) throw new Error(`the service loaded ${loaded} PDQ signals, expected ${bank.signals}`);
    const memory = memoryOf(service.pid);
    starts.push({ readySeconds: service.readyMs / 1000, indexLoadSeconds: service.indexLoadMs / 1000, rssMiB: memory.rssBytes / MIB, peakRssMiB: memory.peakRssBytes / MIB });
    process.stderr.write(`  start ${round + 1}/${ROUNDS}: ready in ${(service.readyMs / 1000).toFixed(1)} s (index ${(service.indexLoadMs / 1000).toFixed(1)} s), RSS ${Math.round(memory.rssBytes / MIB)} MiB\n`);
    if (round < ROUNDS - 1 || !keepLast) {
      await service.stop();
      service = undefined;
    }
  }
  const figures: LoadFigures = {
    signals: bank.signals,
    setupSeconds: bank.setupSeconds,
    readySeconds: median(starts.map((s) => s.readySeconds)),
    indexLoadSeconds: median(starts.map((s) => s.indexLoadSeconds)),
    rssMiB: median(starts.map((s) => s.rssMiB)),
    peakRssMiB: median(starts.map((s) => s.peakRssMiB)),
    starts,
  };
  return { figures, service };
}

async function benchBank(count: number, dir: string): Promise<{ set: HashSet; bank: BenchBank }> {
  const set = clusteredHashes(count, SEED);
  const bank = await buildBenchBank(tmpIn(dir, `bank-${count}-`), set, (rows) => process.stderr.write(`\rwriting signals: ${rows}/${count}`));
  process.stderr.write(`\n${bank.signals} signals written in ${bank.setupSeconds.toFixed(1)} s\n`);
  return { set, bank };
}

/** Empty-database start: what the process itself (node, tsx, migrations, workers) costs before any index. */
async function emptyStart(dir: string): Promise<number> {
  const service = await startServeChild(join(tmpIn(dir, 'empty-'), 'bank.db'), { logFile: join(dir, 'serve-empty.log'), env: SERVICE_ENV });
  await service.stop();
  return service.readyMs / 1000;
}

function loadRow(load: LoadFigures): Record<string, string | number> {
  return {
    signals: load.signals,
    'setup s': load.setupSeconds,
    'spawn → /readyz s': load.readySeconds,
    'index load s': load.indexLoadSeconds,
    'RSS MiB': Math.round(load.rssMiB),
    'peak RSS MiB': Math.round(load.peakRssMiB),
  };
}

async function main(): Promise<void> {
  const dir = tmpIn(tmpdir(), 'sb-bench-http-');
  // The machine is shared: the load average says how quiet it was.
  const result: Record<string, unknown> = { signals: SIGNALS, radius: RADIUS, rounds: ROUNDS, runSeconds: RUN_SECONDS, loadAverageBefore: loadavg() };
  let service: ServeChild | undefined;
  try {
    const emptyReadySeconds = emptyStart(dir);
    result['emptyReadySeconds'] = await emptyReadySeconds;
    const { set, bank } = await benchBank(SIGNALS, dir);
    const measured = await measureLoad(bank, dir, !CPU_PROF && !LOAD_ONLY);
    service = measured.service;
    result['load'] = measured.figures;
    printTable(`index load at start, ${bank.signals} PDQ signals (medians of ${ROUNDS} starts; an empty database is ready in ${(result['emptyReadySeconds'] as number).toFixed(2)} s)`, [loadRow(measured.figures)]);

    if (!LOAD_ONLY) {
      const queries = queryHexes(set, 20_000);
      const figures: ScenarioFigures[] = [];
      const cpuProfiles: Record<string, CpuSummary> = {};
      for (const scenario of scenarios(bank, queries).filter((s) => ONLY === undefined || s.name.includes(ONLY))) {
        // With --cpu-prof every scenario gets its own server, so that its profile holds that load only.
        const profileDir = CPU_PROF ? tmpIn(dir, 'cpu-') : undefined;
        service ??= await startServeChild(bank.dbPath, { logFile: join(dir, 'serve-load.log'), env: SERVICE_ENV, ...(profileDir && { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] }) });
        figures.push(await measureScenario(service, scenario));
        result['serverRssAfterLoadMiB'] = memoryOf(service.pid).rssBytes / MIB;
        if (profileDir) {
          await service.stop();
          service = undefined;
          // The load's own samples: warm-up and runs, not the start and index load before them.
          const loaded = figures[figures.length - 1]!;
          cpuProfiles[scenario.name] = summariseCpuProfile(profileDir, 15, 1000 * (loaded.warmupSeconds + loaded.runs.reduce((sum, run) => sum + run.seconds, 0)));
        }
      }
      await service?.stop();
      service = undefined;
      result['scenarios'] = figures;
      printTable(`signed requests against ${bank.signals} PDQ signals (medians of ${ROUNDS} runs of about ${RUN_SECONDS} s)`, figures.map((f) => ({
        request: f.name,
        conns: f.connections,
        'req/s': Math.round(f.requestsPerSecond),
        'units/s': `${Math.round(f.unitsPerSecond)} ${f.unit}`,
        'p50 ms': f.p50Ms,
        'p99 ms': f.p99Ms,
        'server CPU ms/req': f.serverCpuMsPerRequest.toFixed(2),
        'client CPU ms/req': f.loadGeneratorCpuMsPerRequest.toFixed(2),
        target: TARGETS[f.name] ?? '',
      })));

      if (CPU_PROF) {
        result['cpuProfiles'] = cpuProfiles;
        for (const [name, summary] of Object.entries(cpuProfiles)) {
          printTable(`server main thread, ${name}: self time by stage (the load only: warm-up and ${ROUNDS} runs; ${(summary.totalMs / 1000).toFixed(1)} s)`, summary.categories.map((c) => ({ stage: c.category, s: (c.ms / 1000).toFixed(2), share: `${(c.share * 100).toFixed(1)} %` })));
          printTable('  functions with the most self time', summary.functions.map((f) => ({ function: f.fn.slice(0, 90), stage: f.category, share: `${(f.share * 100).toFixed(1)} %` })));
        }
      }

      if (PROFILE) {
        // The service is stopped: the profile has both cores to itself, like the server had.
        const profiles: StageProfile[] = [];
        for (const [kind, scenario] of [['GET', figures[0]!], ['POST', figures[1]!]] as const) {
          const profile = await profileMatchStages(bank, queries, RADIUS, kind, scenario.requestsPerSecond);
          profiles.push(profile);
          printTable(`where the time of one ${scenario.name} goes, stage by stage in one process (medians of ${profile.requests})`, profile.stages.map((s) => ({ stage: s.stage, ms: s.ms.toFixed(3), share: `${(s.share * 100).toFixed(1)} %` })));
          console.log(`sum of stages ${profile.sumMs.toFixed(3)} ms; over HTTP the service answered one such request every ${profile.httpMsPerRequest.toFixed(3)} ms of wall time (${scenario.connections} connections)`);
        }
        result['profiles'] = profiles;
      }
    }

    // Written now and again after the 10 M load, so that a failure there keeps these figures.
    const resultName = CPU_PROF ? 'http-cpu-prof' : LOAD_ONLY ? 'http-load' : ONLY !== undefined ? 'http-partial' : 'http';
    writeResult(resultName, { ...result, loadAverageAfter: loadavg() });

    if (LOAD_10M) {
      rmSync(dirname(bank.dbPath), { recursive: true, force: true });
      const big = await benchBank(10_000_000, dir);
      const load10m = (await measureLoad(big.bank, dir, false)).figures;
      result['load10m'] = load10m;
      printTable(`index load at start, 10,000,000 PDQ signals (medians of ${ROUNDS} starts)`, [loadRow(load10m)]);
    }
    result['loadAverageAfter'] = loadavg();
    // Profiled servers run slower: their figures go to a file of their own, as do load-only runs.
    console.log(`\nwritten ${writeResult(resultName, result)}`);
  } finally {
    await service?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
