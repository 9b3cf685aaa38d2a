/**
 * The options of local hashing (`hashImage`, the `hash` command, the worker pool), validated
 * once at the boundary: which hashes to compute, the pixel limit, and whether to add PDQ's
 * dihedral hashes. Bad options are `InputError`s in the project's "Expected X for Y but
 * received Z" shape; an unknown hash type is `ERR_UNKNOWN_TYPE`.
 */
import { InputError } from '../errors.js';
import { getSignalType, SIGNAL_TYPE_NAMES } from '../signals/registry.js';
import type { SignalTypeName } from '../signals/signal-type.js';
import { DEFAULT_MAX_PIXELS } from './decode-image.js';

export type HashType = SignalTypeName;

export interface HashImageOptions {
  /** Hashes to compute; all four by default. */
  readonly types?: readonly HashType[];
  /** Largest width × height decoded; default 100 megapixels. */
  readonly maxPixels?: number;
  /** Also compute the 8 dihedral PDQ hashes (needs `pdq`); default false. */
  readonly dihedral?: boolean;
}

/** Options after validation and defaults; plain data, so it can be posted to a worker. */
export interface ResolvedHashOptions {
  readonly types: readonly HashType[];
  readonly maxPixels: number;
  readonly dihedral: boolean;
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : typeof value === 'number' ? String(value) : typeof value;
}

export function resolveHashOptions(options: HashImageOptions = {}): ResolvedHashOptions {
  const { types = SIGNAL_TYPE_NAMES, maxPixels = DEFAULT_MAX_PIXELS, dihedral = false } = options;
  if (!Array.isArray(types) || types.length === 0) {
    throw new InputError('ERR_VALIDATION', `Expected a non-empty list of hash types for types but received ${describe(types)}`);
  }
  const wanted = new Set(types.map((type: unknown) => getSignalType(type).name));
  if (!Number.isSafeInteger(maxPixels) || maxPixels < 1) {
    throw new InputError('ERR_VALIDATION', `Expected a positive integer for maxPixels but received ${describe(maxPixels)}`);
  }
  if (typeof dihedral !== 'boolean') {
    throw new InputError('ERR_VALIDATION', `Expected a boolean for dihedral but received ${describe(dihedral)}`);
  }
  if (dihedral && !wanted.has('pdq')) {
    throw new InputError('ERR_VALIDATION', 'Expected pdq among the types for dihedral but received none');
  }
  // Canonical order, whatever order the caller listed them in.
  return Object.freeze({ types: SIGNAL_TYPE_NAMES.filter((name) => wanted.has(name)), maxPixels, dihedral });
}

/** Parses a comma-separated list such as `pdq,md5` (the CLI's `--types`). */
export function parseHashTypeList(value: string): HashType[] {
  const names = value.split(',').map((name) => name.trim()).filter((name) => name.length > 0);
  return names.map((name) => getSignalType(name).name);
}
