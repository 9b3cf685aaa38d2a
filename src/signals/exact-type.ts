/**
 * Exact signal types (`md5`, `sha256`): cryptographic digests of the file bytes. They match only
 * on equality, so the only accepted match distance is 0 and there is no degeneracy rule.
 */
import { InputError } from '../errors.js';
import { hammingDistanceHex, isHex } from './hex.js';
import { describe } from './perceptual-type.js';
import type { SignalType, SignalTypeName } from './signal-type.js';

export function exactSignalType(name: SignalTypeName, bits: number): SignalType {
  const hexLength = bits / 4;
  return Object.freeze({
    name,
    kind: 'exact',
    hexLength,
    bits,
    defaultMaxDistance: 0,
    maxMaxDistance: 0,
    requiresQuality: false,
    minQuality: 0,
    parseHash(value: string): string {
      if (value.length !== hexLength || !isHex(value)) {
        throw new InputError('ERR_INVALID_HASH', `Expected ${hexLength} hex digits for a ${name} hash but received ${describe(value)}`);
      }
      return value.toLowerCase();
    },
    distance: hammingDistanceHex,
    parseMaxDistance(value: number | undefined): number {
      if (value === undefined || value === 0) return 0;
      throw new InputError('ERR_INVALID_DISTANCE', `${name} matches exactly: maxDistance must be 0 but received ${String(value)}`);
    },
    parseQuality(value: number | undefined): undefined {
      if (value !== undefined) throw new InputError('ERR_VALIDATION', `quality applies to pdq only, not to ${name}`);
      return undefined;
    },
  } satisfies SignalType);
}
