// blockhash against the reference vectors (fixtures/blockhash): the precise method through the
// production decode equals exact-hashes.txt on all 17 images, and blockhash-core's quick method
// on the same pixels equals quick-hashes.txt on all 17.
import { bmvbhashEven } from 'blockhash-core';
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
    expect(bmvbhashEven({ width: image.width, height: image.height, data: image.data }, 16)).toBe(hash);
  });
});
