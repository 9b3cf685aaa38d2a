/**
 * Hex and bit helpers for hash values: strict hex parsing into bytes, bytes back to lower-case
 * hex, and popcount / Hamming distance over hex strings. The bulk kernels of the index work on
 * packed bytes; these helpers serve single comparisons and boundary validation.
 */

const HEX_RE = /^[0-9a-fA-F]*$/;

/** Number of set bits for every byte value. */
export const BYTE_POPCOUNT: Uint8Array = (() => {
  const table = new Uint8Array(256);
  for (let i = 1; i < 256; i++) table[i] = (i & 1) + (table[i >> 1] ?? 0);
  return table;
})();

/** True when `value` consists only of hex digits (any case). */
export function isHex(value: string): boolean {
  return HEX_RE.test(value);
}

/** Parses even-length hex into bytes; the caller has checked `isHex` and the length. */
export function hexToBytes(hex: string, out: Uint8Array = new Uint8Array(hex.length >>> 1), offset = 0): Uint8Array {
  for (let i = 0, j = offset; i < hex.length; i += 2, j++) {
    out[j] = (nibble(hex.charCodeAt(i)) << 4) | nibble(hex.charCodeAt(i + 1));
  }
  return out;
}

const HEX_DIGITS = '0123456789abcdef';
const BYTE_HEX: readonly string[] = Array.from({ length: 256 }, (_, b) => HEX_DIGITS[b >> 4]! + HEX_DIGITS[b & 15]!);

/** Lower-case hex of `length` bytes of `bytes` starting at `offset`. */
export function bytesToHex(bytes: Uint8Array, offset = 0, length = bytes.length - offset): string {
  let out = '';
  for (let i = offset; i < offset + length; i++) out += BYTE_HEX[bytes[i]!]!;
  return out;
}

/** Set bits in a hex string. */
export function popcountHex(hex: string): number {
  let count = 0;
  for (let i = 0; i < hex.length; i++) count += BYTE_POPCOUNT[nibble(hex.charCodeAt(i))]!;
  return count;
}

/** Hamming distance between two hex strings of equal length. */
export function hammingDistanceHex(a: string, b: string): number {
  let distance = 0;
  for (let i = 0; i < a.length; i++) distance += BYTE_POPCOUNT[nibble(a.charCodeAt(i)) ^ nibble(b.charCodeAt(i))]!;
  return distance;
}

function nibble(code: number): number {
  if (code <= 57) return code - 48; // 0-9
  if (code <= 70) return code - 55; // A-F
  return code - 87; // a-f
}
