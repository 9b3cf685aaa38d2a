/**
 * PDQ's luminance: Y = 0.299 R + 0.587 G + 0.114 B, evaluated in single precision exactly as
 * the reference does (each coefficient a float, each product and sum rounded to float). The
 * 3 × 256 possible products are tabulated once, so a pixel costs two float additions. Alpha,
 * when present, is ignored: the reference hashes the stored colour samples.
 */
import type { RawImage } from '../raw-image.js';

function productTable(coefficient: number): Float32Array {
  const c = Math.fround(coefficient);
  return Float32Array.from({ length: 256 }, (_, sample) => c * sample);
}

const RED = productTable(0.299);
const GREEN = productTable(0.587);
const BLUE = productTable(0.114);

/** Writes the luminance of row `row` of `image` into `out[offset … offset+width-1]`. */
export function fillLumaRow(image: RawImage, row: number, out: Float32Array, offset = 0): void {
  const { data, width, channels } = image;
  const fround = Math.fround;
  let p = row * width * channels;
  for (let x = 0; x < width; x++, p += channels) {
    out[offset + x] = fround(RED[data[p]!]! + GREEN[data[p + 1]!]!) + BLUE[data[p + 2]!]!;
  }
}
