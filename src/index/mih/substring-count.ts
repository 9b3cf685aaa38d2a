/**
 * The choice of m, the number of substrings, for a table of N hashes. Norouzi et al. suggest
 * m ≈ 256 / log2 N, so that a bucket holds about one hash. Which m is fastest near that value
 * also depends on the radius, through the pigeonhole arithmetic: at r = 31, m = 16 probes every
 * table at radius 1 (31 = 2·16 − 1) while m = 15 probes two tables at radius 2. So m is chosen by
 * the cost model at the design radius 31 (PDQ's; blockhash's 10 is cheap for any m near the
 * rule), among the layouts whose offset arrays cost at most 16 bytes per hash — which rules out
 * substrings much longer than log2 N. Measured here: 10 M → 11, 1 M → 13, 100 k → 16.
 */
import { DEFAULT_COSTS, estimateTableQuery, type SearchCosts } from './search-plan.js';
import { evenLayout, HASH_BITS, MAX_SUBSTRING_BITS, MIN_SUBSTRING_BITS } from './substring-layout.js';

export const DESIGN_RADIUS = 31;
/** Offsets cost about 9/8 byte per key (one `keyEnd` byte, plus the group starts). */
const OFFSET_BYTES_PER_KEY = 9 / 8;
const MAX_OFFSET_BYTES_PER_HASH = 16;

export function chooseSubstringCount(size: number, maxBits = MAX_SUBSTRING_BITS, costs: SearchCosts = DEFAULT_COSTS): number {
  const most = HASH_BITS / MIN_SUBSTRING_BITS;
  let best = most;
  let bestCost = Infinity;
  for (let m = Math.ceil(HASH_BITS / maxBits); m <= most; m++) {
    const layout = evenLayout(m, maxBits);
    const offsetBytes = layout.lengths.reduce((sum, bits) => sum + 2 ** bits * OFFSET_BYTES_PER_KEY, 0);
    if (offsetBytes > MAX_OFFSET_BYTES_PER_HASH * size) continue;
    const estimate = estimateTableQuery(layout, size, DESIGN_RADIUS);
    if (!estimate.feasible) continue;
    const cost = estimate.probes * costs.probe + estimate.candidates * costs.candidate;
    if (cost < bestCost) {
      best = m;
      bestCost = cost;
    }
  }
  return best;
}
