/**
 * The signal types of SPEC §2, one row each, and the lookup by name that every boundary
 * (HTTP, CLI, library) uses. An unknown name is `ERR_UNKNOWN_TYPE`.
 */
import { InputError } from '../errors.js';
import { exactSignalType } from './exact-type.js';
import { describe, perceptualSignalType } from './perceptual-type.js';
import type { SignalType, SignalTypeName } from './signal-type.js';

export const PDQ = perceptualSignalType({ name: 'pdq', defaultMaxDistance: 31, minQuality: 50 });
export const BLOCKHASH = perceptualSignalType({ name: 'blockhash', defaultMaxDistance: 10 });
export const MD5 = exactSignalType('md5', 128);
export const SHA256 = exactSignalType('sha256', 256);

export const SIGNAL_TYPES: Readonly<Record<SignalTypeName, SignalType>> = Object.freeze({
  pdq: PDQ,
  blockhash: BLOCKHASH,
  md5: MD5,
  sha256: SHA256,
});

export const SIGNAL_TYPE_NAMES = Object.freeze(Object.keys(SIGNAL_TYPES) as SignalTypeName[]);

export function isSignalTypeName(value: unknown): value is SignalTypeName {
  return typeof value === 'string' && Object.hasOwn(SIGNAL_TYPES, value);
}

export function getSignalType(name: unknown): SignalType {
  if (isSignalTypeName(name)) return SIGNAL_TYPES[name];
  const shown = typeof name === 'string' ? describe(name) : typeof name;
  throw new InputError('ERR_UNKNOWN_TYPE', `Expected one of ${SIGNAL_TYPE_NAMES.join(', ')} for type but received ${shown}`);
}
