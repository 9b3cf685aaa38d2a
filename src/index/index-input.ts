/**
 * Validation of everything a caller hands the index: hashes (64 hex digits in any case, or 32
 * bytes), ids (unsigned 32-bit integers), match radii (integers 0–64) and search options. Each
 * check fails at once with the project's coded `InputError` and one message shape, "Expected X
 * for Y but received Z". Hashes are decoded straight into the caller's buffer, so the hot search
 * path allocates nothing here.
 */
import { InputError } from '../errors.js';
import { hexToBytes, isHex } from '../signals/hex.js';
import type { Hash256, SearchOptions } from './hamming-index.js';

export const HASH_BYTES = 32;
/** The largest match radius the bank accepts for 256-bit hashes (SPEC: 0–64). */
export const MAX_DISTANCE = 64;

function describe(value: unknown): string {
  if (typeof value === 'string') return value.length > 80 ? `a string of length ${value.length}` : JSON.stringify(value);
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (typeof value === 'number') return String(value);
  return value === null ? 'null' : typeof value;
}

/** Writes the 32 bytes of `hash` to `out[offset…]`, or throws `ERR_INVALID_HASH`. */
export function writeHash(hash: Hash256, out: Uint8Array, offset: number): void {
  if (typeof hash === 'string') {
    if (hash.length !== HASH_BYTES * 2 || !isHex(hash)) {
      throw new InputError('ERR_INVALID_HASH', `Expected 64 hex digits for a 256-bit hash but received ${describe(hash)}`);
    }
    hexToBytes(hash, out, offset);
    return;
  }
  if (!(hash instanceof Uint8Array) || hash.length !== HASH_BYTES) {
    throw new InputError('ERR_INVALID_HASH', `Expected 64 hex digits or 32 bytes for a 256-bit hash but received ${describe(hash)}`);
  }
  out.set(hash, offset);
}

/** Packs a list of hashes, or checks an already packed buffer. */
export function packHashes(hashes: readonly Hash256[] | Uint8Array): Uint8Array {
  if (hashes instanceof Uint8Array) {
    if (hashes.length % HASH_BYTES !== 0) {
      throw new InputError('ERR_INVALID_HASH', `Expected a multiple of 32 bytes for packed 256-bit hashes but received ${hashes.length} bytes`);
    }
    return hashes;
  }
  const packed = new Uint8Array(hashes.length * HASH_BYTES);
  hashes.forEach((hash, i) => writeHash(hash, packed, i * HASH_BYTES));
  return packed;
}

export function checkMaxDistance(maxDistance: number): void {
  if (!Number.isInteger(maxDistance) || maxDistance < 0 || maxDistance > MAX_DISTANCE) {
    throw new InputError('ERR_INVALID_DISTANCE', `Expected an integer from 0 to 64 for maxDistance but received ${describe(maxDistance)}`);
  }
}

export function checkId(id: number): void {
  if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) {
    throw new InputError('ERR_VALIDATION', `Expected an unsigned 32-bit integer for an index id but received ${describe(id)}`);
  }
}

export function checkBulk(ids: Uint32Array, hashes: Uint8Array): void {
  if (!(ids instanceof Uint32Array)) throw new InputError('ERR_VALIDATION', `Expected a Uint32Array for ids but received ${describe(ids)}`);
  if (!(hashes instanceof Uint8Array) || hashes.length !== ids.length * HASH_BYTES) {
    throw new InputError('ERR_INVALID_HASH', `Expected ${ids.length * HASH_BYTES} bytes for ${ids.length} packed hashes but received ${describe(hashes)}`);
  }
}

export interface ResolvedSearchOptions {
  /** `Infinity` when no limit was given. */
  readonly limit: number;
  readonly filter: ((id: number) => boolean) | undefined;
}

const NO_OPTIONS: ResolvedSearchOptions = { limit: Infinity, filter: undefined };

export function resolveSearchOptions(options: SearchOptions | number | undefined): ResolvedSearchOptions {
  if (options === undefined) return NO_OPTIONS;
  const limit = typeof options === 'number' ? options : options.limit;
  const filter = typeof options === 'number' ? undefined : options.filter;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
    throw new InputError('ERR_VALIDATION', `Expected a non-negative integer for limit but received ${describe(limit)}`);
  }
  if (filter !== undefined && typeof filter !== 'function') {
    throw new InputError('ERR_VALIDATION', `Expected a function for filter but received ${describe(filter)}`);
  }
  if (limit === undefined && filter === undefined) return NO_OPTIONS;
  return { limit: limit ?? Infinity, filter };
}
