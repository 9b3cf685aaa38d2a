// The benchmark's photo set: every fixture photograph of at least 400 px, re-encoded once as a
// JPEG (quality 90) fitted within 800×800, cached under bench/.cache/ (git-ignored). sharp's
// output is deterministic, so every run and machine benchmarks the same bytes.
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SOURCES = ['fixtures/blockhash/images', 'fixtures/pdq/reg-test-input/dih', 'fixtures/pdq/reg-test-input', 'fixtures/pdq/misc-images', 'fixtures/pdq/bridge-mods'];
export const PHOTO_SIDE = 800;
const MIN_SOURCE_SIDE = 400;

export async function benchPhotos(): Promise<string[]> {
  const cache = join(ROOT, `bench/.cache/hash-photos-${PHOTO_SIDE}`);
  mkdirSync(cache, { recursive: true });
  const photos: string[] = [];
  for (const source of SOURCES) {
    for (const name of readdirSync(join(ROOT, source)).sort()) {
      if (!/\.(jpe?g|png)$/i.test(name)) continue;
      const input = join(ROOT, source, name);
      const { width = 0, height = 0 } = await sharp(input).metadata();
      if (Math.max(width, height) < MIN_SOURCE_SIDE) continue;
      const output = join(cache, `${basename(source)}__${basename(name, extname(name))}.jpg`);
      if (!existsSync(output)) {
        await sharp(input, { ignoreIcc: true }).resize(PHOTO_SIDE, PHOTO_SIDE, { fit: 'inside' }).flatten({ background: '#ffffff' }).jpeg({ quality: 90 }).toFile(output);
      }
      photos.push(output);
    }
  }
  return photos;
}
