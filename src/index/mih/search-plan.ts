/**
 * When the multi-index tables beat the linear scan, per radius, for one set of tables. The cost
 * model counts nanoseconds: a probe (one bucket lookup, usually a cache miss), a candidate (a
 * posting read plus a gather of its hash for verification) and a scanned slot. For each radius
 * the plan knows the exact number of probes and the expected number of candidates for uniformly
 * spread hashes; it uses the tables only where that is cheaper than scanning every indexed slot.
 * Clustered data can make buckets far fuller than expected, so the plan also gives a candidate
 * budget: a query whose probed buckets hold more than that is answered by the scan instead.
 *
 * `strategy: 'tables'` uses the tables whenever the probe balls allow it and never falls back;
 * it exists so that tests can check the tables at every radius on small data.
 */
import { MAX_DISTANCE } from '../index-input.js';
import { probeBall, type ProbeBall } from './probe-ball.js';
import { probeRadii, type SubstringLayout } from './substring-layout.js';

export type SearchStrategy = 'auto' | 'tables';

/**
 * Costs in nanoseconds, fitted to measurements on the development machine (Xeon, 2 cores) from
 * 100 k to 10 M hashes: a probe plus a candidate cost 34–75 ns together (more as the tables
 * outgrow the caches); the scan costs 1.5 ns a slot while the hashes fit in the cache, 4.5–5 ns
 * once it streams them from memory.
 */
export interface SearchCosts {
  readonly probe: number;
  readonly candidate: number;
  /** A scanned slot once the hashes no longer fit the cache (`cachedBytes`)… */
  readonly scannedSlot: number;
  /** …and while they do. */
  readonly cachedScannedSlot: number;
  readonly cachedBytes: number;
  /** Fixed cost of any query (parsing, ranking), for deciding whether a batch needs workers. */
  readonly query: number;
}

export const DEFAULT_COSTS: SearchCosts = { probe: 30, candidate: 30, scannedSlot: 4.5, cachedScannedSlot: 1.5, cachedBytes: 8 << 20, query: 3000 };

/** Expected cost of scanning `slots` slots. */
export function scanNanos(slots: number, costs: SearchCosts): number {
  return slots * (slots * 32 <= costs.cachedBytes ? costs.cachedScannedSlot : costs.scannedSlot);
}

export interface SearchPlan {
  readonly balls: readonly ProbeBall[];
  /** `radii[r][t]`: probe radius of table t for match radius r (−1: not probed). */
  readonly radii: readonly Int8Array[];
  /** `useTables[r]`: whether radius r is answered by the tables. */
  readonly useTables: readonly boolean[];
  /** `probes[r]`: bucket lookups per query at radius r. */
  readonly probes: Int32Array;
  /** `candidateBudget[r]`: above this many candidates a query is answered by the scan. */
  readonly candidateBudget: Float64Array;
  /** `queryNanos[r]`: expected cost of a query through the tables. */
  readonly queryNanos: Float64Array;
  /** `candidates[r]`: expected candidates of a query through the tables (uniformly spread hashes). */
  readonly candidates: Float64Array;
}

/** Bucket lookups and expected candidates (for uniformly spread hashes) of one query; `feasible` when every probe ball is listed. */
export interface TableQueryEstimate {
  readonly feasible: boolean;
  readonly probes: number;
  readonly candidates: number;
}

export function estimateTableQuery(layout: SubstringLayout, indexedSlots: number, maxDistance: number): TableQueryEstimate {
  let probes = 0;
  let candidates = 0;
  let feasible = true;
  probeRadii(layout.lengths.length, maxDistance).forEach((radius, t) => {
    if (radius < 0) return;
    const ball = probeBall(layout.lengths[t]!);
    if (radius > ball.maxRadius) {
      feasible = false;
      return;
    }
    const size = ball.sizes[radius]!;
    probes += size;
    candidates += (size * indexedSlots) / 2 ** layout.lengths[t]!;
  });
  return { feasible, probes, candidates };
}

/**
 * `indexedSlots` postings per table; the alternative scan reads `scannedSlots` slots (dead ones
 * included). The delta is scanned either way and does not enter the comparison.
 */
export function planSearches(
  layout: SubstringLayout,
  indexedSlots: number,
  scannedSlots: number,
  strategy: SearchStrategy,
  costs: SearchCosts = DEFAULT_COSTS,
): SearchPlan {
  const m = layout.lengths.length;
  const balls = layout.lengths.map((length) => probeBall(length));
  const radii: Int8Array[] = [];
  const useTables: boolean[] = [];
  const probes = new Int32Array(MAX_DISTANCE + 1);
  const candidateBudget = new Float64Array(MAX_DISTANCE + 1);
  const queryNanos = new Float64Array(MAX_DISTANCE + 1);
  const candidates = new Float64Array(MAX_DISTANCE + 1);
  const scanCost = scanNanos(scannedSlots, costs);
  for (let r = 0; r <= MAX_DISTANCE; r++) {
    radii.push(probeRadii(m, r));
    const estimate = estimateTableQuery(layout, indexedSlots, r);
    probes[r] = estimate.feasible ? estimate.probes : 0;
    candidates[r] = estimate.feasible ? estimate.candidates : 0;
    const probeCost = estimate.probes * costs.probe;
    queryNanos[r] = estimate.feasible ? probeCost + estimate.candidates * costs.candidate : Infinity;
    if (strategy === 'tables') {
      useTables.push(estimate.feasible);
      candidateBudget[r] = Infinity;
    } else {
      useTables.push(queryNanos[r]! < scanCost);
      candidateBudget[r] = Math.max(0, (scanCost - probeCost) / costs.candidate);
    }
  }
  return { balls, radii, useTables, probes, candidateBudget, queryNanos, candidates };
}
