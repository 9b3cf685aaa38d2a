/**
 * RFC 8785 JSON Canonicalization Scheme: object members sorted by the UTF-16 code units of their
 * names, no whitespace, numbers in ECMAScript's shortest round-trip form, strings escaped as
 * ECMAScript's JSON.stringify does (which JCS adopts). The audit log hashes entries and signs
 * checkpoints over these bytes, so any two parties serialise an entry identically.
 */
import type { AuditEntry } from './audit-entry.js';
import { InputError } from '../errors.js';

export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new InputError('ERR_VALIDATION', 'Canonical JSON has no form for NaN or Infinity');
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) return `[${value.map((item: unknown) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
      const record = value as Record<string, unknown>;
      const members: string[] = [];
      for (const key of Object.keys(record).sort(compareUtf16)) {
        if (record[key] !== undefined) members.push(`${JSON.stringify(key)}:${canonicalJson(record[key])}`);
      }
      return `{${members.join(',')}}`;
    }
    default:
      throw new InputError('ERR_VALIDATION', `Canonical JSON has no form for a ${typeof value}`);
  }
}

let lastProof: string | null = null;
let lastProofJson = 'null';

/**
 * `canonicalJson(entry)` for an audit entry, its members already in canonical order. The entries
 * of one request share its proof, so the proof's serialisation is reused from one to the next.
 */
export function canonicalEntryJson(entry: AuditEntry): string {
  const s = JSON.stringify;
  if (entry.proof !== lastProof) {
    lastProof = entry.proof;
    lastProofJson = s(entry.proof);
  }
  return (
    `{"action":${s(entry.action)},"actor":${s(entry.actor)},"at":${s(entry.at)},"data":${canonicalJson(entry.data)},` +
    `"kid":${s(entry.kid)},"proof":${lastProofJson},"seq":${canonicalJson(entry.seq)},"subject":${s(entry.subject)}}`
  );
}

/** Orders strings by UTF-16 code units (not by code points or locale), as RFC 8785 §3.2.3 asks. */
function compareUtf16(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
