/**
 * Set bits of 32-bit values in plain JavaScript, for the few comparisons made outside the
 * WebAssembly kernels: substring distances, dead-slot counts, and re-checking a worker's answer.
 */

export function popcount32(value: number): number {
  let v = value - ((value >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/** Hamming distance between the 32 bytes at `a[aOffset…]` and at `b[bOffset…]`. */
export function hashDistance(a: Uint8Array, aOffset: number, b: Uint8Array, bOffset: number): number {
  let distance = 0;
  for (let i = 0; i < 32; i++) distance += popcount32(a[aOffset + i]! ^ b[bOffset + i]!);
  return distance;
}
