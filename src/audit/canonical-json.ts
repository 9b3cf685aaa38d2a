/**
 * RFC 8785 JSON Canonicalization Scheme: object members sorted by the UTF-16 code units of their
 * names, no whitespace, numbers in ECMAScript's shortest round-trip form, strings escaped as
 * ECMAScript's JSON.stringify does (which JCS adopts). The audit log hashes entries and signs
 * checkpoints over these bytes, so any two parties serialise an entry identically.
 */
import { InputError } from '../errors.js';

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InputError('ERR_VALIDATION', 'Canonical JSON has no form for NaN or Infinity');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item === undefined ? null : item)).join(',')}]`;
  if (typeof value === 'object') {
    const members = Object.keys(value)
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .sort(compareUtf16)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${members.join(',')}}`;
  }
  throw new InputError('ERR_VALIDATION', `Canonical JSON has no form for a ${typeof value}`);
}

/** Orders strings by UTF-16 code units (not by code points or locale), as RFC 8785 §3.2.3 asks. */
function compareUtf16(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
