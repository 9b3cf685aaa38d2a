/**
 * Accepts each request `jti` once per member (SPEC §3). Every jti is remembered in memory until
 * its token expires (with clock skew); the jtis of state-changing requests are also written to
 * the store, so that a replay of a submit, retraction or admin call is refused after a restart
 * too. Memory is bucketed by expiry minute and whole buckets are dropped when they expire.
 */
import type { Store } from '../store/store.js';
import { CLOCK_SKEW_SECONDS } from './request-token.js';

const BUCKET_SECONDS = 60;

export class ReplayGuard {
  private readonly buckets = new Map<number, Set<string>>();

  constructor(private readonly store: Pick<Store, 'consumeJti'>) {}

  /**
   * Records the jti; answers false when this member used it before. `persist` writes it to the
   * store as well (state-changing requests).
   */
  async accept(memberId: string, jti: string, expiresAtSeconds: number, persist: boolean, nowSeconds: number): Promise<boolean> {
    this.dropExpired(nowSeconds);
    const key = `${memberId}\u0000${jti}`;
    for (const bucket of this.buckets.values()) if (bucket.has(key)) return false;
    const keepUntil = Math.ceil(expiresAtSeconds) + CLOCK_SKEW_SECONDS;
    if (persist && !(await this.store.consumeJti(memberId, jti, keepUntil))) {
      this.remember(key, keepUntil);
      return false;
    }
    // Re-check after the await: a concurrent request with the same jti may have won.
    for (const bucket of this.buckets.values()) if (bucket.has(key)) return false;
    this.remember(key, keepUntil);
    return true;
  }

  /** Number of jtis held in memory. */
  get size(): number {
    let n = 0;
    for (const bucket of this.buckets.values()) n += bucket.size;
    return n;
  }

  private remember(key: string, keepUntil: number): void {
    const id = Math.floor(keepUntil / BUCKET_SECONDS);
    let bucket = this.buckets.get(id);
    if (!bucket) this.buckets.set(id, (bucket = new Set()));
    bucket.add(key);
  }

  private dropExpired(nowSeconds: number): void {
    for (const id of this.buckets.keys()) if ((id + 1) * BUCKET_SECONDS < nowSeconds) this.buckets.delete(id);
  }
}
