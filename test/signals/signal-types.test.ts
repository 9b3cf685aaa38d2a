import { describe, expect, it } from 'vitest';
import { isSignalbankError } from '../../src/errors.js';
import { hammingDistanceHex, popcountHex, hexToBytes, bytesToHex } from '../../src/signals/hex.js';
import { getSignalType, SIGNAL_TYPE_NAMES } from '../../src/signals/registry.js';

// A real PDQ hash from the reference vectors (bridge-mods/aaa-orig, 128 of 256 bits set).
const PDQ_HASH = 'd8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22';
const ones = (n: number): string => {
  // A 64-hex value with exactly n leading bits set.
  let bits = '1'.repeat(n) + '0'.repeat(256 - n);
  let hex = '';
  for (let i = 0; i < 256; i += 4) hex += parseInt(bits.slice(i, i + 4), 2).toString(16);
  bits = '';
  return hex;
};

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    if (isSignalbankError(error)) return error.code;
    throw error;
  }
}

describe('signal types: parseHash', () => {
  const cases: Array<[type: string, input: string, expected: string]> = [
    ['pdq', PDQ_HASH, PDQ_HASH],
    ['pdq', PDQ_HASH.toUpperCase(), PDQ_HASH],
    ['pdq', PDQ_HASH.slice(1), 'ERR_INVALID_HASH'],
    ['pdq', PDQ_HASH + '0', 'ERR_INVALID_HASH'],
    ['pdq', PDQ_HASH.slice(0, 63) + 'g', 'ERR_INVALID_HASH'],
    ['pdq', ' ' + PDQ_HASH.slice(1), 'ERR_INVALID_HASH'],
    ['pdq', '', 'ERR_INVALID_HASH'],
    ['pdq', '0'.repeat(64), 'ERR_DEGENERATE_HASH'],
    ['pdq', 'f'.repeat(64), 'ERR_DEGENERATE_HASH'],
    ['pdq', ones(31), 'ERR_DEGENERATE_HASH'],
    ['pdq', ones(32), ones(32)],
    ['pdq', ones(224), ones(224)],
    ['pdq', ones(225), 'ERR_DEGENERATE_HASH'],
    ['blockhash', PDQ_HASH.toUpperCase(), PDQ_HASH],
    ['blockhash', '0'.repeat(64), 'ERR_DEGENERATE_HASH'],
    ['blockhash', ones(31), 'ERR_DEGENERATE_HASH'],
    ['blockhash', PDQ_HASH.slice(2), 'ERR_INVALID_HASH'],
    ['md5', 'D41D8CD98F00B204E9800998ECF8427E', 'd41d8cd98f00b204e9800998ecf8427e'],
    ['md5', '0'.repeat(32), '0'.repeat(32)],
    ['md5', 'd41d8cd98f00b204e9800998ecf8427', 'ERR_INVALID_HASH'],
    ['md5', 'x41d8cd98f00b204e9800998ecf8427e', 'ERR_INVALID_HASH'],
    ['sha256', 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['sha256', 'f'.repeat(64), 'f'.repeat(64)],
    ['sha256', 'f'.repeat(32), 'ERR_INVALID_HASH'],
  ];
  it.each(cases)('%s %s → %s', (type, input, expected) => {
    const signalType = getSignalType(type);
    if (expected.startsWith('ERR_')) expect(codeOf(() => signalType.parseHash(input))).toBe(expected);
    else expect(signalType.parseHash(input)).toBe(expected);
  });
});

describe('signal types: thresholds and distance', () => {
  const table: Array<[type: string, bits: number, defaultMax: number, maxMax: number, kind: string]> = [
    ['pdq', 256, 31, 64, 'perceptual'],
    ['blockhash', 256, 10, 64, 'perceptual'],
    ['md5', 128, 0, 0, 'exact'],
    ['sha256', 256, 0, 0, 'exact'],
  ];
  it.each(table)('%s: %i bits, default %i, max %i, %s', (type, bits, defaultMax, maxMax, kind) => {
    const t = getSignalType(type);
    expect([t.bits, t.defaultMaxDistance, t.maxMaxDistance, t.kind]).toEqual([bits, defaultMax, maxMax, kind]);
    expect(t.parseMaxDistance(undefined)).toBe(defaultMax);
    expect(t.parseMaxDistance(maxMax)).toBe(maxMax);
    expect(codeOf(() => t.parseMaxDistance(maxMax + 1))).toBe('ERR_INVALID_DISTANCE');
    expect(codeOf(() => t.parseMaxDistance(-1))).toBe('ERR_INVALID_DISTANCE');
    expect(codeOf(() => t.parseMaxDistance(0.5))).toBe('ERR_INVALID_DISTANCE');
  });

  it('measures Hamming distance over hex', () => {
    expect(getSignalType('pdq').distance(PDQ_HASH, PDQ_HASH)).toBe(0);
    expect(hammingDistanceHex('0f', 'f0')).toBe(8);
    expect(hammingDistanceHex(ones(32), ones(40))).toBe(8);
    expect(popcountHex(PDQ_HASH)).toBe(128);
    expect(bytesToHex(hexToBytes(PDQ_HASH.toUpperCase()))).toBe(PDQ_HASH);
  });
});

describe('signal types: quality rule', () => {
  const cases: Array<[type: string, quality: number | undefined, expected: number | undefined | string]> = [
    ['pdq', 100, 100],
    ['pdq', 50, 50],
    ['pdq', 49, 'ERR_LOW_QUALITY'],
    ['pdq', 0, 'ERR_LOW_QUALITY'],
    ['pdq', undefined, 'ERR_VALIDATION'],
    ['pdq', 101, 'ERR_VALIDATION'],
    ['pdq', 75.5, 'ERR_VALIDATION'],
    ['blockhash', undefined, undefined],
    ['blockhash', 80, 'ERR_VALIDATION'],
    ['md5', undefined, undefined],
    ['sha256', 90, 'ERR_VALIDATION'],
  ];
  it.each(cases)('%s quality %s → %s', (type, quality, expected) => {
    const t = getSignalType(type);
    if (typeof expected === 'string') expect(codeOf(() => t.parseQuality(quality))).toBe(expected);
    else expect(t.parseQuality(quality)).toBe(expected);
  });
});

describe('signal types: lookup', () => {
  it.each(SIGNAL_TYPE_NAMES)('knows %s', (name) => expect(getSignalType(name).name).toBe(name));
  it.each(['PDQ', 'phash', '', 'toString', '__proto__', 42, null])('unknown type %s → ERR_UNKNOWN_TYPE', (name) => {
    expect(codeOf(() => getSignalType(name))).toBe('ERR_UNKNOWN_TYPE');
  });
});
