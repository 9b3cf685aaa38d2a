// `npm run bench:hash`: images per second for decode + PDQ + blockhash over ~800 px photographs
// (bench/lib/bench-photos.ts), first as a per-stage breakdown in this thread, then through the
// CLI's worker pool with one worker and with one per core. Several rounds each; the table and
// bench/results/hash.json report medians, because the machine is shared and noisy.
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { blockhash } from '../src/hashing/blockhash.js';
import { decodeImage, DEFAULT_MAX_PIXELS } from '../src/hashing/decode-image.js';
import { HashPool } from '../src/hashing/hash-pool.js';
import { resolveHashOptions } from '../src/hashing/hash-options.js';
import { PdqHasher } from '../src/hashing/pdq/pdq-hasher.js';
import { benchPhotos, PHOTO_SIDE } from './lib/bench-photos.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const PASSES_PER_ROUND = Number(process.env['BENCH_PASSES'] ?? 4);

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

interface StageTimes {
  decodeMs: number;
  pdqMs: number;
  blockhashMs: number;
}

/** Milliseconds per image for each stage, in this thread, libvips single-threaded like a worker. */
async function stageRound(photos: readonly string[]): Promise<StageTimes> {
  const pdq = new PdqHasher();
  const totals = { decodeMs: 0, pdqMs: 0, blockhashMs: 0 };
  for (const photo of photos) {
    let t = performance.now();
    const image = await decodeImage(photo, { maxPixels: DEFAULT_MAX_PIXELS });
    totals.decodeMs += performance.now() - t;
    t = performance.now();
    pdq.hash(image);
    totals.pdqMs += performance.now() - t;
    t = performance.now();
    blockhash(image);
    totals.blockhashMs += performance.now() - t;
  }
  return { decodeMs: totals.decodeMs / photos.length, pdqMs: totals.pdqMs / photos.length, blockhashMs: totals.blockhashMs / photos.length };
}

/** Images per second through a pool of `size` workers. */
async function poolRound(pool: HashPool, photos: readonly string[]): Promise<number> {
  const options = resolveHashOptions({ types: ['pdq', 'blockhash'] });
  const start = performance.now();
  await Promise.all(photos.map((photo) => pool.hash(photo, options)));
  return photos.length / ((performance.now() - start) / 1000);
}

async function main(): Promise<void> {
  const photos = await benchPhotos();
  const workload = Array.from({ length: PASSES_PER_ROUND }, () => photos).flat();
  const sizes = await Promise.all(photos.map(async (p) => sharp(p).metadata()));
  const meanPixels = sizes.reduce((sum, m) => sum + (m.width ?? 0) * (m.height ?? 0), 0) / sizes.length;
  const cores = availableParallelism();
  console.log(`${photos.length} photos fitted within ${PHOTO_SIDE} px (mean ${(meanPixels / 1e6).toFixed(2)} MP), ${workload.length} images per round, ${ROUNDS} rounds, ${cores} cores`);

  sharp.concurrency(1);
  await stageRound(photos); // warm-up: JIT and file cache
  const stages: StageTimes[] = [];
  for (let r = 0; r < ROUNDS; r++) stages.push(await stageRound(workload));
  const stage = {
    decodeMs: median(stages.map((s) => s.decodeMs)),
    pdqMs: median(stages.map((s) => s.pdqMs)),
    blockhashMs: median(stages.map((s) => s.blockhashMs)),
  };

  const poolResults: { workers: number; rounds: number[]; median: number; perCore: number }[] = [];
  for (const workers of [...new Set([1, cores])]) {
    const pool = new HashPool({ size: workers });
    await poolRound(pool, workload); // warm-up: every worker's JIT, one full round
    const rounds: number[] = [];
    for (let r = 0; r < ROUNDS; r++) rounds.push(await poolRound(pool, workload));
    await pool.close();
    const m = median(rounds);
    poolResults.push({ workers, rounds, median: m, perCore: m / workers });
  }

  const perImage = stage.decodeMs + stage.pdqMs + stage.blockhashMs;
  console.log('\nper image, one thread (median of rounds)');
  console.table({
    decode: { ms: stage.decodeMs.toFixed(2) },
    pdq: { ms: stage.pdqMs.toFixed(2) },
    blockhash: { ms: stage.blockhashMs.toFixed(2) },
    total: { ms: perImage.toFixed(2), 'images/s': (1000 / perImage).toFixed(1) },
  });
  console.log('worker pool, decode + PDQ + blockhash (images/s)');
  console.table(
    Object.fromEntries(
      poolResults.map((p) => [
        `${p.workers} worker${p.workers > 1 ? 's' : ''}`,
        { median: p.median.toFixed(1), 'per core': p.perCore.toFixed(1), rounds: p.rounds.map((v) => v.toFixed(0)).join(' ') },
      ]),
    ),
  );

  const result = {
    benchmark: 'hash',
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores,
    photos: photos.length,
    photoSide: PHOTO_SIDE,
    meanMegapixels: Number((meanPixels / 1e6).toFixed(3)),
    imagesPerRound: workload.length,
    rounds: ROUNDS,
    stageMsPerImage: stage,
    pool: poolResults,
  };
  const out = fileURLToPath(new URL('./results/hash.json', import.meta.url));
  mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`written ${out}`);
}

await main();
