/**
 * Collects the hits of one query and ranks them into the contract's order: dead slots dropped,
 * sorted by distance then id, the filter applied in that order, at most `limit` kept. Each hit
 * is one float64 sort key, `distance · 2^32 + id` (exact below 2^53), so ranking is one typed-
 * array sort of a reused buffer; with a limit and no filter, a distance histogram first cuts the
 * hits down to the nearest `limit` so that a wide radius does not sort the whole bank.
 */
import { isDeadSlot } from './hash-store.js';
import type { IndexMatch } from './hamming-index.js';
import { MAX_DISTANCE } from './index-input.js';

const ID_SPAN = 4294967296;

export class MatchCollector {
  /** Sort keys of the live hits, `[0, count)`; after `rank`, the answer in order. */
  keys = new Float64Array(256);
  count = 0;
  private readonly histogram = new Uint32Array(MAX_DISTANCE + 1);

  constructor(
    private ids: Uint32Array,
    private deadBits: Int32Array,
  ) {}

  /** Starts a new query over (possibly reallocated) store arrays. */
  reset(ids: Uint32Array, deadBits: Int32Array): void {
    this.ids = ids;
    this.deadBits = deadBits;
    this.count = 0;
  }

  add(slot: number, distance: number): void {
    if (isDeadSlot(this.deadBits, slot)) return;
    if (this.count === this.keys.length) this.grow();
    this.keys[this.count++] = distance * ID_SPAN + this.ids[slot]!;
  }

  /** Adds `hits` kernel pairs `[slot, distance]` starting at `words[first]`. */
  addPairs(words: Uint32Array, first: number, hits: number): void {
    for (let i = first, end = first + 2 * hits; i < end; i += 2) this.add(words[i]!, words[i + 1]!);
  }

  private grow(): void {
    const keys = new Float64Array(this.keys.length * 2);
    keys.set(this.keys);
    this.keys = keys;
  }

  /** Orders the hits and keeps the answer in `keys[0, count)`. */
  rank(limit: number, filter: ((id: number) => boolean) | undefined): void {
    if (filter === undefined && limit < this.count) this.keepNearest(limit);
    const sorted = this.keys.subarray(0, this.count).sort();
    if (filter !== undefined) {
      let kept = 0;
      for (let i = 0; i < sorted.length && kept < limit; i++) {
        const key = sorted[i]!;
        if (filter(key % ID_SPAN)) sorted[kept++] = key;
      }
      this.count = kept;
    } else if (limit < this.count) {
      this.count = limit;
    }
  }

  /** Drops every hit farther than the `limit`-th nearest distance. */
  private keepNearest(limit: number): void {
    const { keys, histogram } = this;
    histogram.fill(0);
    for (let i = 0; i < this.count; i++) histogram[Math.floor(keys[i]! / ID_SPAN)]!++;
    let cutoff = 0;
    for (let seen = 0; cutoff <= MAX_DISTANCE; cutoff++) {
      seen += histogram[cutoff]!;
      if (seen >= limit) break;
    }
    const bound = (cutoff + 1) * ID_SPAN;
    let kept = 0;
    for (let i = 0; i < this.count; i++) if (keys[i]! < bound) keys[kept++] = keys[i]!;
    this.count = kept;
  }

  matches(): IndexMatch[] {
    const out = new Array<IndexMatch>(this.count);
    for (let i = 0; i < this.count; i++) out[i] = matchFromKey(this.keys[i]!);
    return out;
  }
}

export function matchFromKey(key: number): IndexMatch {
  const distance = Math.floor(key / ID_SPAN);
  return { id: key - distance * ID_SPAN, distance };
}
