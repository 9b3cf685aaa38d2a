// Companion of `npm run bench:hash` (run: `npx tsx bench/hash-preshrink.ts`):
// what a pre-shrink before PDQ would cost in agreement with the canonical reference and what
// it would save in time. For every fixture original with reference quality ≥ 80 it hashes the
// production decode at full resolution and after a sharp resize to fit within 1024 and 512 px
// (Lanczos-3, shrink-on-load for JPEG), and reports the largest distance to cpp_hash_noresize
// for each policy; then it times decode + PDQ per policy on a 12-megapixel photograph derived
// from the bridge fixture. Writes bench/results/hash-preshrink.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { decodeImage, DEFAULT_MAX_PIXELS } from '../src/hashing/decode-image.js';
import { PdqHasher } from '../src/hashing/pdq/pdq-hasher.js';
import type { RawImage } from '../src/hashing/raw-image.js';
import { hammingDistanceHex } from '../src/signals/hex.js';
import { pdqVectors, PDQ_DIR } from '../test/hashing/reference-vectors.js';

const POLICIES = [0, 1024, 512] as const; // 0 = no pre-shrink
type Policy = (typeof POLICIES)[number];
const policyName = (p: Policy): string => (p === 0 ? 'none (canonical)' : `fit ${p}`);

async function decodeWith(input: string | Buffer, policy: Policy): Promise<RawImage> {
  if (policy === 0) return decodeImage(input, { maxPixels: DEFAULT_MAX_PIXELS });
  const { data, info } = await sharp(input, { ignoreIcc: true, autoOrient: false, pages: 1, failOn: 'error' })
    .resize({ width: policy, height: policy, fit: 'inside', withoutEnlargement: true, kernel: 'lanczos3' })
    .toColourspace('srgb')
    .removeAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: 3 };
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1]!;

async function main(): Promise<void> {
  sharp.concurrency(1);
  const pdq = new PdqHasher();
  const vectors = pdqVectors().filter((v) => v.noresizeQuality >= 80 && v.file !== 'python-threatexchange/I16.png');
  const agreement = [];
  for (const policy of POLICIES) {
    const distances = [];
    for (const vector of vectors) {
      const hash = pdq.hash(await decodeWith(`${PDQ_DIR}${vector.file}`, policy)).hash;
      distances.push(hammingDistanceHex(hash, vector.noresizeHash));
    }
    agreement.push({ policy: policyName(policy), images: distances.length, maxDistance: Math.max(...distances), over10: distances.filter((d) => d > 10).length, exact: distances.filter((d) => d === 0).length });
  }
  console.log(`PDQ vs cpp_hash_noresize on ${vectors.length} originals with quality ≥ 80`);
  console.table(agreement);

  const large = await sharp(`${PDQ_DIR}bridge-mods/aaa-orig.jpg`).resize(4368, 2741).jpeg({ quality: 90 }).toBuffer();
  const timing = [];
  for (const policy of POLICIES) {
    await decodeWith(large, policy);
    const decodeMs: number[] = [];
    const pdqMs: number[] = [];
    for (let round = 0; round < 5; round++) {
      let t = performance.now();
      const image = await decodeWith(large, policy);
      decodeMs.push(performance.now() - t);
      t = performance.now();
      pdq.hash(image);
      pdqMs.push(performance.now() - t);
    }
    timing.push({ policy: policyName(policy), decodeMs: Number(median(decodeMs).toFixed(1)), pdqMs: Number(median(pdqMs).toFixed(1)) });
  }
  console.log('decode + PDQ of one 4368×2741 (12 MP) JPEG, median of 5');
  console.table(timing);

  const out = fileURLToPath(new URL('./results/hash-preshrink.json', import.meta.url));
  mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ benchmark: 'hash-preshrink', date: new Date().toISOString(), node: process.version, agreement, timing }, null, 2)}\n`);
  console.log(`written ${out}`);
}

await main();
