/**
 * Turns 16×16 DCT coefficients into the 256-bit PDQ hash: bit k (k = 16·row + column) is set
 * when coefficient k is greater than the median — the 128th smallest coefficient, which is
 * what the reference's Torben median yields for 256 values. The hex form is the reference's:
 * the 256-bit number with bit k worth 2^k, big-endian, so bit 0 is the last hex digit's lowest bit.
 */
import { bytesToHex } from '../../signals/hex.js';

const COEFFICIENTS = 256;
const HASH_BYTES = COEFFICIENTS / 8;

/** Scratch for `hashFromCoefficients`, reusable across calls. */
export interface MedianBitsScratch {
  readonly sorted: Float32Array;
  readonly bytes: Uint8Array;
}

export function createMedianBitsScratch(): MedianBitsScratch {
  return { sorted: new Float32Array(COEFFICIENTS), bytes: new Uint8Array(HASH_BYTES) };
}

export function hashFromCoefficients(coefficients: Float32Array, scratch: MedianBitsScratch = createMedianBitsScratch()): string {
  const { sorted, bytes } = scratch;
  sorted.set(coefficients.subarray(0, COEFFICIENTS));
  sorted.sort();
  const median = sorted[COEFFICIENTS / 2 - 1]!;
  bytes.fill(0);
  for (let k = 0; k < COEFFICIENTS; k++) {
    if (coefficients[k]! > median) bytes[HASH_BYTES - 1 - (k >> 3)]! |= 1 << (k & 7);
  }
  return bytesToHex(bytes);
}
