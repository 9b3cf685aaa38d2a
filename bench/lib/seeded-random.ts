/**
 * The benchmarks' deterministic random source: xoshiro128** (Blackman & Vigna) seeded through
 * splitmix32, so that every generated data set and query list is identical from run to run.
 */

export class SeededRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
  }

  /** A uniform unsigned 32-bit integer. */
  uint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** A uniform integer in [0, n) for n ≤ 2^32 (multiply-shift, negligible bias). */
  below(n: number): number {
    return Math.floor((this.uint32() / 4294967296) * n);
  }

  /** A uniform float in [0, 1). */
  unit(): number {
    return this.uint32() / 4294967296;
  }

  fill(words: Uint32Array): void {
    for (let i = 0; i < words.length; i++) words[i] = this.uint32();
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
