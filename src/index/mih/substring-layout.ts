/**
 * How multi-index hashing cuts a 256-bit hash into m substrings (m itself is chosen in
 * `substring-count.ts`), and the pigeonhole radius each substring table is probed with. Lengths
 * are capped at 24 bits to bound the per-key offset arrays; bits left over when m · 24 < 256 are simply not indexed (still exact: a distance on a
 * subset of the bits is at most the full distance).
 *
 * Bit b of a hash is bit (b mod 32) of its little-endian 32-bit word b / 32.
 */

export const HASH_BITS = 256;
export const MAX_SUBSTRING_BITS = 24;
export const MIN_SUBSTRING_BITS = 4;

export interface SubstringLayout {
  /** Bit offset of each substring. */
  readonly starts: readonly number[];
  /** Length in bits of each substring (≤ 24). */
  readonly lengths: readonly number[];
}

/** m substrings of ⌊256/m⌋ or ⌈256/m⌉ bits, capped at `maxBits` (default 24). */
export function evenLayout(substrings: number, maxBits = MAX_SUBSTRING_BITS): SubstringLayout {
  if (!Number.isInteger(substrings) || substrings < 1 || substrings > HASH_BITS / MIN_SUBSTRING_BITS) {
    throw new RangeError(`substrings must be an integer from 1 to ${HASH_BITS / MIN_SUBSTRING_BITS}, received ${substrings}`);
  }
  if (!Number.isInteger(maxBits) || maxBits < MIN_SUBSTRING_BITS || maxBits > MAX_SUBSTRING_BITS) {
    throw new RangeError(`substring bits must be an integer from ${MIN_SUBSTRING_BITS} to ${MAX_SUBSTRING_BITS}, received ${maxBits}`);
  }
  const base = Math.floor(HASH_BITS / substrings);
  const longer = base >= maxBits ? 0 : HASH_BITS - base * substrings;
  const starts: number[] = [];
  const lengths: number[] = [];
  let start = 0;
  for (let i = 0; i < substrings; i++) {
    const length = Math.min(maxBits, i < longer ? base + 1 : base);
    starts.push(start);
    lengths.push(length);
    start += length;
  }
  return { starts, lengths };
}

/**
 * Pigeonhole radii (Norouzi et al., Prop. 1): with r = a·m + c (0 ≤ c < m), a hash within r
 * differs by at most a bits in one of the first c + 1 substrings or by at most a − 1 in one of
 * the others. A radius of −1 means the table need not be probed.
 */
export function probeRadii(substrings: number, maxDistance: number): Int8Array {
  const a = Math.floor(maxDistance / substrings);
  const c = maxDistance - a * substrings;
  const radii = new Int8Array(substrings);
  for (let i = 0; i < substrings; i++) radii[i] = i <= c ? a : a - 1;
  return radii;
}

/** The value of the substring at bit `start`, `length` bits, of the hash whose words begin at `wordBase`. */
export function substringKey(words: Uint32Array, wordBase: number, start: number, length: number): number {
  const word = wordBase + (start >>> 5);
  const shift = start & 31;
  const mask = length === 32 ? 0xffffffff : (1 << length) - 1;
  let value = words[word]! >>> shift;
  if (shift + length > 32) value |= words[word + 1]! << (32 - shift);
  return (value & mask) >>> 0;
}
