// blockhash against the reference vectors (fixtures/blockhash): the precise method through the
// production decode equals exact-hashes.txt on all 17 images, and blockhash-core's quick method
// on the same pixels equals quick-hashes.txt on all 17. Our faster implementation is also held
// to blockhash-core itself on random images of every shape, with and without transparency.
import { bmvbhash, bmvbhashEven } from 'blockhash-core';
import fc from 'fast-check';
import type { RawImage } from '../../src/hashing/raw-image.js';
import { describe, expect, it } from 'vitest';
import { blockhash } from '../../src/hashing/blockhash.js';
import { decodeImage, DEFAULT_MAX_PIXELS } from '../../src/hashing/decode-image.js';
import { BLOCKHASH_DIR, blockhashVectors } from './reference-vectors.js';

const decode = (file: string) => decodeImage(`${BLOCKHASH_DIR}images/${file}`, { maxPixels: DEFAULT_MAX_PIXELS });

describe('blockhash reference vectors', () => {
  const exact = blockhashVectors('exact');
  const quick = blockhashVectors('quick');

  it('has 17 images in each list', () => {
    expect(exact).toHaveLength(17);
    expect(quick).toHaveLength(17);
  });

  it.each(exact)('precise: $file', async ({ file, hash }) => {
    expect(blockhash(await decode(file))).toBe(hash);
  });

  it.each(quick)('quick: $file', async ({ file, hash }) => {
    const image = await decode(file);
    expect(bmvbhashEven({ width: image.width, height: image.height, data: asRgba(image) }, 16)).toBe(hash);
  });
});

/** RGBA expansion of an image, for blockhash-core, which reads 4 channels. */
function asRgba(image: RawImage): Uint8Array {
  if (image.channels === 4) return image.data;
  const rgba = new Uint8Array(image.width * image.height * 4).fill(255);
  for (let i = 0, j = 0; i < image.data.length; i += 3, j += 4) rgba.set(image.data.subarray(i, i + 3), j);
  return rgba;
}

describe('blockhash equals blockhash-core bmvbhash', () => {
  const imageArbitrary = fc
    .record({
      width: fc.integer({ min: 16, max: 260 }),
      height: fc.integer({ min: 16, max: 260 }),
      channels: fc.constantFrom<3 | 4>(3, 4),
      // Few distinct levels make equal blocks (median ties) common, the case where order matters most.
      levels: fc.constantFrom(1, 2, 3, 256),
      transparentShare: fc.constantFrom(0, 0.1, 0.9),
      seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    })
    .map(({ width, height, channels, levels, transparentShare, seed }): RawImage => {
      const data = new Uint8Array(width * height * channels);
      let state = seed;
      const next = (): number => {
        state = (state * 48271) % 2147483647;
        return state / 2147483647;
      };
      for (let p = 0; p < width * height; p++) {
        for (let c = 0; c < 3; c++) data[p * channels + c] = Math.floor(next() * levels) * Math.floor(255 / Math.max(1, levels - 1));
        if (channels === 4) data[p * 4 + 3] = next() < transparentShare ? 0 : 255;
      }
      return { data, width, height, channels };
    });

  it('on random images of every shape', () => {
    fc.assert(
      fc.property(imageArbitrary, (image) => {
        expect(blockhash(image)).toBe(bmvbhash({ width: image.width, height: image.height, data: asRgba(image) }, 16));
      }),
      { numRuns: 150 },
    );
  });

  it('on the reference images, blockhash-core reading their RGBA expansion', async () => {
    for (const { file, hash } of blockhashVectors('exact')) {
      const image = await decode(file);
      expect(bmvbhash({ width: image.width, height: image.height, data: asRgba(image) }, 16)).toBe(hash);
    }
  });
});
