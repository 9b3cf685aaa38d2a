// Both engines of the fused, streaming Jarosz downsampler (TypeScript and WebAssembly) against
// a plain transcription of the reference's passes (whole-image float buffers, one pass after
// the other, real divisions), on random images of awkward sizes: all must give the same
// 64×64 grid bit for bit.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jaroszWindowSize } from '../../src/hashing/pdq/box-filter.js';
import { downsampleLumaTo64 } from '../../src/hashing/pdq/jarosz-downsample.js';
import { WasmDownsampler } from '../../src/hashing/pdq/wasm/wasm-downsampler.js';
import type { RawImage } from '../../src/hashing/raw-image.js';

const f = Math.fround;

function box1d(input: Float32Array, output: Float32Array, start: number, length: number, stride: number, window: number): void {
  const half = Math.floor((window + 2) / 2);
  let sum = 0;
  let count = 0;
  let right = 0;
  let left = 0;
  let out = 0;
  const at = (i: number): number => start + i * stride;
  for (let i = 0; i < half - 1; i++) { sum = f(sum + input[at(right++)]!); count++; }
  for (let i = 0; i < window - half + 1; i++) { sum = f(sum + input[at(right++)]!); count++; output[at(out++)] = f(sum / count); }
  for (let i = 0; i < length - window; i++) { sum = f(sum + input[at(right++)]!); sum = f(sum - input[at(left++)]!); output[at(out++)] = f(sum / count); }
  for (let i = 0; i < half - 1; i++) { sum = f(sum - input[at(left++)]!); count--; output[at(out++)] = f(sum / count); }
}

function plainDownsample(image: RawImage): Float32Array {
  const { width, height, channels, data } = image;
  const a = new Float32Array(width * height);
  const b = new Float32Array(width * height);
  for (let i = 0; i < width * height; i++) {
    const p = i * channels;
    a[i] = f(f(f(f(0.299) * data[p]!) + f(f(0.587) * data[p + 1]!)) + f(f(0.114) * data[p + 2]!));
  }
  const grid = new Float32Array(64 * 64);
  if (width === 64 && height === 64) return a;
  const rowWindow = Math.floor((width + 127) / 128);
  const columnWindow = Math.floor((height + 127) / 128);
  for (let pass = 0; pass < 2; pass++) {
    for (let y = 0; y < height; y++) box1d(a, b, y * width, width, 1, rowWindow);
    for (let x = 0; x < width; x++) box1d(b, a, x, height, width, columnWindow);
  }
  for (let i = 0; i < 64; i++) {
    const y = Math.trunc(((i + 0.5) * height) / 64);
    for (let j = 0; j < 64; j++) grid[i * 64 + j] = a[y * width + Math.trunc(((j + 0.5) * width) / 64)]!;
  }
  return grid;
}

function randomImage(width: number, height: number, channels: 3 | 4, seed: number): RawImage {
  const data = new Uint8Array(width * height * channels);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < data.length; i++) {
    state ^= state << 13; state >>>= 0; state ^= state >>> 17; state ^= state << 5; state >>>= 0;
    // Smooth structure plus noise, so sums span a realistic range.
    data[i] = (((i / channels) % width) * 3 + Math.floor(i / channels / width) * 2 + (state & 63)) & 255;
  }
  return { data, width, height, channels };
}

const wasmEngine = new WasmDownsampler();
const ENGINES = {
  typescript: downsampleLumaTo64,
  wasm: (image: RawImage, grid: Float32Array) => wasmEngine.downsample(image, grid),
};

describe('Jarosz window', () => {
  it('is the reference window ⌈dimension / 128⌉', () => {
    expect([1, 64, 128, 129, 256, 257, 1004, 1600].map((d) => jaroszWindowSize(d, 64))).toEqual([1, 1, 1, 2, 2, 3, 8, 13]);
  });
});

describe.each(Object.entries(ENGINES))('Jarosz downsampling, %s engine', (_name, downsample) => {
  it('equals the plain pass-by-pass transcription on random sizes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 16, max: 700 }),
        fc.integer({ min: 16, max: 700 }),
        fc.constantFrom<3 | 4>(3, 4),
        fc.integer(),
        (width, height, channels, seed) => {
          const image = randomImage(width, height, channels, seed);
          const grid = new Float32Array(64 * 64);
          downsample(image, grid);
          expect(grid).toEqual(plainDownsample(image));
        },
      ),
      { numRuns: 30 },
    );
  });

  it.each([[64, 64], [16, 16], [17, 1000], [1000, 17], [129, 257], [65, 63], [1603, 1001]])('equals the transcription at %i×%i', (width, height) => {
    const image = randomImage(width, height, 4, width * 7919 + height);
    const grid = new Float32Array(64 * 64);
    downsample(image, grid);
    expect(grid).toEqual(plainDownsample(image));
  });
});
