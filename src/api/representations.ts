/**
 * How bank records are shown over HTTP: signals (with the caller's own part), matches, members
 * and keys. Submitter identities never appear in anything built here for members.
 */
import type { Match } from '../bank/bank.js';
import { publicSignal } from '../store/public-signal.js';
import type { Member, MemberKey, OwnPart, SignalRecord } from '../store/store.js';

export function signalJson(signal: SignalRecord, mine?: OwnPart): Record<string, unknown> {
  return { ...publicSignal(signal), ...(mine !== undefined && { mine }) };
}

export function matchJson({ signal, distance }: Match): Record<string, unknown> {
  return {
    id: signal.id,
    type: signal.type,
    hash: signal.hash,
    distance,
    media: signal.media,
    labels: signal.labels,
    submitters: signal.submitters,
    status: signal.status,
    opinions: signal.opinions,
  };
}

export function memberJson(member: Member): Record<string, unknown> {
  return { id: member.id, name: member.name, roles: member.roles, status: member.status, createdAt: member.createdAt, updatedAt: member.updatedAt };
}

export function keyJson(key: MemberKey): Record<string, unknown> {
  return { kid: key.kid, alg: key.alg, jwk: { ...key.publicJwk, kid: key.kid, alg: key.alg }, status: key.status, createdAt: key.createdAt, revokedAt: key.revokedAt };
}
