// The decode policy: every bad input gives its error code, and every colour model, bit depth,
// palette, transparency and animation decodes to the RGBA pixels the hashes expect. Inputs are
// generated with sharp from a fixture photo at test time, in a temporary directory.
import { bmvbhash } from 'blockhash-core';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockhash } from '../../src/hashing/blockhash.js';
import { decodeImage, DEFAULT_MAX_PIXELS } from '../../src/hashing/decode-image.js';
import { PdqHasher } from '../../src/hashing/pdq/pdq-hasher.js';
import type { RawImage } from '../../src/hashing/raw-image.js';
import { hammingDistanceHex } from '../../src/signals/hex.js';
import { PDQ_DIR } from './reference-vectors.js';
import { pngHeaderOnly, SOF_ONLY_JPEG } from '../support/crafted-images.js';

const PHOTO = `${PDQ_DIR}bridge-mods/square-256x256.jpg`;
const limits = { maxPixels: DEFAULT_MAX_PIXELS };
const pdq = new PdqHasher();
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'signalbank-decode-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, bytes: Uint8Array | string): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as { code: string }).code;
  }
  return 'resolved';
}

describe('bad inputs', () => {
  it('a zero-byte file is ERR_UNSUPPORTED_IMAGE', async () => {
    expect(await codeOf(decodeImage(write('empty.jpg', ''), limits))).toBe('ERR_UNSUPPORTED_IMAGE');
  });

  it('an empty buffer is ERR_UNSUPPORTED_IMAGE', async () => {
    expect(await codeOf(decodeImage(Buffer.alloc(0), limits))).toBe('ERR_UNSUPPORTED_IMAGE');
  });

  it('a truncated JPEG is ERR_UNSUPPORTED_IMAGE, not a grey-filled image', async () => {
    const jpeg = readFileSync(PHOTO);
    expect(await codeOf(decodeImage(write('truncated.jpg', jpeg.subarray(0, jpeg.length >> 1)), limits))).toBe('ERR_UNSUPPORTED_IMAGE');
  });

  it('a truncated PNG is ERR_UNSUPPORTED_IMAGE', async () => {
    const png = readFileSync(`${PDQ_DIR}pixels/bridge-mods__square-256x256.png`);
    expect(await codeOf(decodeImage(write('truncated.png', png.subarray(0, png.length >> 1)), limits))).toBe('ERR_UNSUPPORTED_IMAGE');
  });

  it('a text file is ERR_UNSUPPORTED_IMAGE', async () => {
    expect(await codeOf(decodeImage(write('notes.png', 'not an image\n'), limits))).toBe('ERR_UNSUPPORTED_IMAGE');
  });

  it('an SVG is refused as not a raster image', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><rect width="100" height="100"/></svg>';
    expect(await codeOf(decodeImage(write('vector.svg', svg), limits))).toBe('ERR_UNSUPPORTED_IMAGE');
  });

  it('a decompression bomb (header claims 30000×30000) is ERR_IMAGE_TOO_LARGE before decoding', async () => {
    const bomb = pngHeaderOnly(30000, 30000);
    expect(bomb.length).toBeLessThan(200);
    expect(await codeOf(decodeImage(write('bomb.png', bomb), limits))).toBe('ERR_IMAGE_TOO_LARGE');
  });

  it('a highly compressed real image over a configured limit is ERR_IMAGE_TOO_LARGE', async () => {
    const big = await sharp({ create: { width: 3000, height: 2000, channels: 3, background: '#808080' } }).png({ compressionLevel: 9 }).toBuffer();
    expect(big.length).toBeLessThan(100_000);
    expect(await codeOf(decodeImage(big, { maxPixels: 5_000_000 }))).toBe('ERR_IMAGE_TOO_LARGE');
    expect((await decodeImage(big, { maxPixels: 6_000_000 })).width).toBe(3000);
  });

  it('an image under 16×16 is ERR_IMAGE_TOO_SMALL; 16×16 decodes', async () => {
    const make = (width: number, height: number) => sharp({ create: { width, height, channels: 3, background: '#336699' } }).png().toBuffer();
    expect(await codeOf(decodeImage(await make(15, 200), limits))).toBe('ERR_IMAGE_TOO_SMALL');
    expect(await codeOf(decodeImage(await make(200, 15), limits))).toBe('ERR_IMAGE_TOO_SMALL');
    expect((await decodeImage(await make(16, 16), limits)).width).toBe(16);
  });

  it('a JPEG with a frame header only is ERR_UNSUPPORTED_IMAGE (the decoder says "missing SOS marker"), not unreadable', async () => {
    expect(await codeOf(decodeImage(write('sof-only.jpg', SOF_ONLY_JPEG), limits))).toBe('ERR_UNSUPPORTED_IMAGE');
    expect(await codeOf(decodeImage(SOF_ONLY_JPEG, limits))).toBe('ERR_UNSUPPORTED_IMAGE');
  });

  it('a missing file is ERR_FILE_UNREADABLE', async () => {
    expect(await codeOf(decodeImage(join(dir, 'no-such-file.jpg'), limits))).toBe('ERR_FILE_UNREADABLE');
  });
});

describe('colour models, depths and frames', () => {
  let reference: RawImage;
  beforeAll(async () => {
    reference = await decodeImage(PHOTO, limits);
  });

  /** The same picture as stored 8-bit grey samples, given to the hashers as RGB. */
  async function greyReference(): Promise<RawImage> {
    const grey = await sharp(PHOTO).toColourspace('b-w').raw().toBuffer();
    const rgb = new Uint8Array(grey.length * 3);
    grey.forEach((v, i) => rgb.set([v, v, v], i * 3));
    return { data: rgb, width: 256, height: 256, channels: 3 };
  }

  it('yields 8-bit RGB for an opaque image', () => {
    expect(reference).toMatchObject({ width: 256, height: 256, channels: 3 });
    expect(reference.data.length).toBe(256 * 256 * 3);
  });

  it('CMYK JPEG is converted to sRGB and hashes like the RGB original', async () => {
    const cmyk = await sharp(PHOTO).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    const image = await decodeImage(cmyk, limits);
    expect(image.channels).toBe(3);
    expect(hammingDistanceHex(pdq.hash(image).hash, pdq.hash(reference).hash)).toBeLessThanOrEqual(16);
  });

  it('1-channel greyscale decodes to equal R, G and B', async () => {
    const png = await sharp(PHOTO).toColourspace('b-w').png().toBuffer();
    expect((await sharp(png).metadata()).channels).toBe(1);
    const image = await decodeImage(png, limits);
    const expected = await greyReference();
    expect(Buffer.from(image.data).equals(Buffer.from(expected.data))).toBe(true);
  });

  it('16-bit greyscale and 16-bit RGB reduce to the same 8-bit samples', async () => {
    const grey8 = await sharp(PHOTO).toColourspace('b-w').raw().toBuffer();
    const samples16 = Uint16Array.from(grey8, (v) => v * 257); // the exact 16-bit version of each 8-bit sample
    const grey16 = await sharp(samples16, { raw: { width: 256, height: 256, channels: 1 } }).toColourspace('grey16').png().toBuffer();
    expect((await sharp(grey16).metadata()).depth).toBe('ushort');
    expect(pdq.hash(await decodeImage(grey16, limits))).toEqual(pdq.hash(await greyReference()));

    const rgb16 = await sharp(PHOTO).toColourspace('rgb16').png().toBuffer();
    expect((await sharp(rgb16).metadata()).depth).toBe('ushort');
    expect(pdq.hash(await decodeImage(rgb16, limits))).toEqual(pdq.hash(reference));
  });

  it('a palette PNG decodes and hashes close to the original', async () => {
    const palette = await sharp(PHOTO).png({ palette: true, colours: 64 }).toBuffer();
    const image = await decodeImage(palette, limits);
    expect(image.channels).toBe(3);
    expect(hammingDistanceHex(pdq.hash(image).hash, pdq.hash(reference).hash)).toBeLessThanOrEqual(24);
  });

  it('transparency: decodes to RGBA; PDQ ignores alpha, blockhash reads alpha 0 as white', async () => {
    const rgba = Buffer.alloc(256 * 256 * 4, 255);
    for (let p = 0; p < 256 * 256; p++) rgba.set(reference.data.subarray(p * 3, p * 3 + 3), p * 4);
    for (let y = 0; y < 128; y++) for (let x = 0; x < 128; x++) rgba[(y * 256 + x) * 4 + 3] = 0;
    const png = await sharp(rgba, { raw: { width: 256, height: 256, channels: 4 } }).png().toBuffer();
    const image = await decodeImage(png, limits);
    expect(image.channels).toBe(4);
    expect(pdq.hash(image)).toEqual(pdq.hash(reference));
    expect(blockhash(image)).toBe(bmvbhash({ width: 256, height: 256, data: rgba }, 16));
    expect(blockhash(image)).not.toBe(blockhash(reference));
  });

  it('an animated GIF hashes as its first frame', async () => {
    const first = await sharp(PHOTO).raw().toBuffer();
    const second = Buffer.from(first.map((v) => 255 - v));
    const frames = (...f: Buffer[]) => sharp(Buffer.concat(f), { raw: { width: 256, height: 256 * f.length, channels: 3, pageHeight: 256 } }).gif().toBuffer();
    const animated = await frames(first, second);
    expect((await sharp(animated).metadata()).pages).toBe(2);
    const image = await decodeImage(animated, limits);
    expect(image.height).toBe(256);
    const firstOnly = await decodeImage(await frames(first), limits);
    const secondOnly = await decodeImage(await frames(second), limits);
    expect(pdq.hash(image)).toEqual(pdq.hash(firstOnly));
    expect(pdq.hash(image)).not.toEqual(pdq.hash(secondOnly));
  });

  it('ignores EXIF orientation', async () => {
    const rotatedTag = await sharp(PHOTO).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toBuffer();
    expect((await sharp(rotatedTag).metadata()).orientation).toBe(6);
    const untagged = await sharp(PHOTO).jpeg({ quality: 95 }).toBuffer();
    expect(pdq.hash(await decodeImage(rotatedTag, limits))).toEqual(pdq.hash(await decodeImage(untagged, limits)));
  });
});
