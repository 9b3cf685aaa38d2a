/**
 * Accepts each request `jti` once per member (SPEC §3). Every jti is remembered in memory until
 * its token expires (with clock skew); the jtis of state-changing requests are also written to
 * the store — before the request runs, or in the same transaction as the change it makes
 * (`JtiKeeping`) — so that a replay of a submit, retraction or admin call is refused after a
 * restart too. Memory is bucketed by expiry minute and whole buckets are dropped when they expire.
 *
 * In memory a jti is held as a 53-bit fingerprint of (member, jti), a plain number in a `Set`,
 * not as a string: 37 bytes of heap (61 of RSS) a jti instead of 136 (215) for the string key
 * (500,000 jtis, after a full collection), which at 1,500 requests/s and tokens remembered for
 * 330 s is ~30 MiB instead of ~100 MiB. A
 * replay always has the same fingerprint, so none is ever let through; two different jtis share
 * one with a chance of about 1 in 9·10^15 per pair, and the only consequence would be a fresh
 * request refused with ERR_REPLAY, to be signed again. Persisted jtis are stored exactly.
 */
import type { RequestJti, Store } from '../store/store.js';
import { CLOCK_SKEW_SECONDS } from './request-token.js';

const BUCKET_SECONDS = 60;
const TWO_POW_32 = 2 ** 32;
/** The fingerprint keeps 21 bits of the second hash: 32 + 21 = 53, a safe integer. */
const HIGH_MASK = 0x1fffff;

/** Two independent 32-bit FNV-1a style hashes of `member \0 jti`, joined into one safe integer. */
export function jtiFingerprint(memberId: string, jti: string): number {
  let low = 0x811c9dc5;
  let high = 0x01000193 ^ 0x5bd1e995;
  const mix = (code: number): void => {
    low = Math.imul(low ^ code, 0x01000193);
    high = Math.imul(high ^ code, 0x5bd1e995);
    high ^= high >>> 15;
  };
  for (let i = 0; i < memberId.length; i++) mix(memberId.charCodeAt(i));
  mix(0);
  for (let i = 0; i < jti.length; i++) mix(jti.charCodeAt(i));
  low ^= low >>> 16;
  low = Math.imul(low, 0x85ebca6b);
  low ^= low >>> 13;
  return (high & HIGH_MASK) * TWO_POW_32 + (low >>> 0);
}

/**
 * Where a request's jti is kept besides memory: nowhere (reads), in the store before the request
 * runs (`store`), or in the store by the request's own change (`with-change`: the route records
 * it with its first audit entry, `AuditOrigin.jti`, and `ensureRecorded` covers a request that
 * changed nothing) — one commit per state-changing request instead of two.
 */
export type JtiKeeping = 'memory' | 'store' | 'with-change';

export class ReplayGuard {
  private readonly buckets = new Map<number, Set<number>>();

  constructor(private readonly store: Pick<Store, 'consumeJti' | 'isJtiUsed'>) {}

  /**
   * Accepts the jti unless this member used it before (in memory, or recorded in the store):
   * answers the jti as the store keeps it, or undefined for a replay.
   */
  async accept(memberId: string, jti: string, expiresAtSeconds: number, keeping: JtiKeeping, nowSeconds: number): Promise<RequestJti | undefined> {
    this.dropExpired(nowSeconds);
    const key = jtiFingerprint(memberId, jti);
    if (this.seen(key)) return undefined;
    const keepUntil = Math.ceil(expiresAtSeconds) + CLOCK_SKEW_SECONDS;
    const usedBefore =
      keeping === 'store' ? !(await this.store.consumeJti(memberId, jti, keepUntil)) : keeping === 'with-change' && (await this.store.isJtiUsed(memberId, jti));
    if (usedBefore) {
      this.remember(key, keepUntil);
      return undefined;
    }
    // Re-check after the await: a concurrent request with the same jti may have won.
    if (this.seen(key)) return undefined;
    this.remember(key, keepUntil);
    return { memberId, jti, expiresAtSeconds: keepUntil };
  }

  /**
   * Whether this member's jti is already held in memory: a replay seen within its token's
   * lifetime, answered before the request costs anything (its member's rate-limit tokens). Only
   * `accept` consumes a jti; a jti this answers false for may still be refused by it.
   */
  isKnownReplay(memberId: string, jti: string): boolean {
    return this.seen(jtiFingerprint(memberId, jti));
  }

  /** Records an accepted `with-change` jti in the store unless the request's change already did. */
  async ensureRecorded(used: RequestJti): Promise<void> {
    if (await this.store.isJtiUsed(used.memberId, used.jti)) return;
    await this.store.consumeJti(used.memberId, used.jti, used.expiresAtSeconds);
  }

  /** Number of jtis held in memory. */
  get size(): number {
    let n = 0;
    for (const bucket of this.buckets.values()) n += bucket.size;
    return n;
  }

  private seen(key: number): boolean {
    for (const bucket of this.buckets.values()) if (bucket.has(key)) return true;
    return false;
  }

  private remember(key: number, keepUntil: number): void {
    const id = Math.floor(keepUntil / BUCKET_SECONDS);
    let bucket = this.buckets.get(id);
    if (!bucket) this.buckets.set(id, (bucket = new Set()));
    bucket.add(key);
  }

  private dropExpired(nowSeconds: number): void {
    for (const id of this.buckets.keys()) if ((id + 1) * BUCKET_SECONDS < nowSeconds) this.buckets.delete(id);
  }
}
