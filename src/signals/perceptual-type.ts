/**
 * Perceptual 256-bit signal types (`pdq`, `blockhash`): 64 hex digits, Hamming distance, and a
 * degeneracy rule — a value with fewer than 32 or more than 224 set bits carries too little
 * information to match safely (flat images hash to near-all-zeros or all-ones) and is rejected.
 */
import { InputError } from '../errors.js';
import { hammingDistanceHex, isHex, popcountHex } from './hex.js';
import type { SignalType, SignalTypeName } from './signal-type.js';

export const PERCEPTUAL_BITS = 256;
export const MIN_SET_BITS = 32;
export const MAX_SET_BITS = 224;

export interface PerceptualTypeOptions {
  readonly name: SignalTypeName;
  readonly defaultMaxDistance: number;
  /** Quality rule: `undefined` when the type carries no quality score. */
  readonly minQuality?: number;
}

export function perceptualSignalType(options: PerceptualTypeOptions): SignalType {
  const { name, defaultMaxDistance, minQuality } = options;
  const hexLength = PERCEPTUAL_BITS / 4;
  return Object.freeze({
    name,
    kind: 'perceptual',
    hexLength,
    bits: PERCEPTUAL_BITS,
    defaultMaxDistance,
    maxMaxDistance: 64,
    requiresQuality: minQuality !== undefined,
    minQuality: minQuality ?? 0,
    parseHash(value: string): string {
      if (value.length !== hexLength || !isHex(value)) {
        throw new InputError('ERR_INVALID_HASH', `Expected ${hexLength} hex digits for a ${name} hash but received ${describe(value)}`);
      }
      const hash = value.toLowerCase();
      const setBits = popcountHex(hash);
      if (setBits < MIN_SET_BITS || setBits > MAX_SET_BITS) {
        throw new InputError(
          'ERR_DEGENERATE_HASH',
          `A ${name} hash must have ${MIN_SET_BITS}–${MAX_SET_BITS} of ${PERCEPTUAL_BITS} bits set; this one has ${setBits}`,
        );
      }
      return hash;
    },
    distance: hammingDistanceHex,
    parseMaxDistance(value: number | undefined): number {
      if (value === undefined) return defaultMaxDistance;
      if (!Number.isInteger(value) || value < 0 || value > 64) {
        throw new InputError('ERR_INVALID_DISTANCE', `Expected an integer 0–64 for maxDistance of a ${name} query but received ${String(value)}`);
      }
      return value;
    },
    parseQuality(value: number | undefined): number | undefined {
      if (minQuality === undefined) {
        if (value !== undefined) throw new InputError('ERR_VALIDATION', `quality applies to pdq only, not to ${name}`);
        return undefined;
      }
      if (value === undefined) throw new InputError('ERR_VALIDATION', `quality (0–100) is required for a ${name} hash`);
      if (!Number.isInteger(value) || value < 0 || value > 100) {
        throw new InputError('ERR_VALIDATION', `Expected an integer 0–100 for quality but received ${String(value)}`);
      }
      if (value < minQuality) {
        throw new InputError('ERR_LOW_QUALITY', `${name} quality ${value} is below the minimum of ${minQuality}`);
      }
      return value;
    },
  } satisfies SignalType);
}

/** A short, safe description of a bad value for error messages (never echoes long input). */
export function describe(value: string): string {
  if (value.length > 80) return `a string of ${value.length} characters`;
  return `${JSON.stringify(value)} (${value.length} characters)`;
}
