/**
 * Per-member token buckets: each member may make `ratePerSecond` requests per second on average
 * with bursts of `burst`. A request over the limit is refused with 429 `ERR_RATE_LIMITED` and a
 * `Retry-After` telling when a token will be available. A rate of 0 turns limiting off.
 */
import { LimitError } from '../errors.js';

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Takes one token for `key` or throws `ERR_RATE_LIMITED`. */
  take(key: string): void {
    if (this.ratePerSecond <= 0) return;
    const now = this.clock();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size > 100_000) this.sweep(now);
      bucket = { tokens: this.burst, updatedMs: now };
      this.buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.updatedMs) / 1000) * this.ratePerSecond);
    bucket.updatedMs = now;
    if (bucket.tokens < 1) {
      const retryAfterSeconds = Math.max(1, Math.ceil((1 - bucket.tokens) / this.ratePerSecond));
      throw new LimitError('ERR_RATE_LIMITED', `Rate limit of ${this.ratePerSecond} requests per second exceeded; retry in ${retryAfterSeconds} s`, {
        retryAfterSeconds,
      });
    }
    bucket.tokens -= 1;
  }

  /** Forgets buckets that have refilled completely. */
  private sweep(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.updatedMs) / 1000) * this.ratePerSecond >= this.burst) this.buckets.delete(key);
    }
  }
}
