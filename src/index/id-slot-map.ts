/**
 * The id → slot map of a hash store: open addressing with linear probing over one `Uint32Array`
 * holding `slot + 1` (0 = empty). Keys are not stored twice — an entry's id is read from the
 * store's slot → id array — so the map costs about 5–6 bytes per id instead of the ~30 a `Map`
 * would, and has no 2^24-entry ceiling. Deletion shifts entries back (no tombstones).
 */

const EMPTY = 0;
const MAX_LOAD = 0.8;
const TARGET_LOAD = 0.6;

function mix(id: number): number {
  let h = id ^ (id >>> 16);
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export class IdSlotMap {
  private table: Uint32Array;
  private count = 0;

  constructor(expectedIds = 0) {
    this.table = new Uint32Array(IdSlotMap.capacityFor(expectedIds));
  }

  private static capacityFor(ids: number): number {
    return Math.max(16, Math.ceil(ids / TARGET_LOAD));
  }

  get size(): number {
    return this.count;
  }

  get bytes(): number {
    return this.table.byteLength;
  }

  /** The slot of `id`, or -1. */
  get(id: number, ids: Uint32Array): number {
    const table = this.table;
    const capacity = table.length;
    let i = mix(id) % capacity;
    for (;;) {
      const entry = table[i]!;
      if (entry === EMPTY) return -1;
      if (ids[entry - 1] === id) return entry - 1;
      if (++i === capacity) i = 0;
    }
  }

  /** Points `id` (already written at `ids[slot]`) to `slot`; answers its previous slot or -1. */
  set(id: number, slot: number, ids: Uint32Array): number {
    if (this.count + 1 > this.table.length * MAX_LOAD) this.rehash(IdSlotMap.capacityFor(this.count + 1), ids);
    const table = this.table;
    const capacity = table.length;
    let i = mix(id) % capacity;
    for (;;) {
      const entry = table[i]!;
      if (entry === EMPTY) {
        table[i] = slot + 1;
        this.count++;
        return -1;
      }
      if (ids[entry - 1] === id) {
        table[i] = slot + 1;
        return entry - 1;
      }
      if (++i === capacity) i = 0;
    }
  }

  /** Removes `id`; answers the slot it had, or -1. */
  delete(id: number, ids: Uint32Array): number {
    const table = this.table;
    const capacity = table.length;
    let i = mix(id) % capacity;
    for (;;) {
      const entry = table[i]!;
      if (entry === EMPTY) return -1;
      if (ids[entry - 1] === id) break;
      if (++i === capacity) i = 0;
    }
    const removed = table[i]! - 1;
    // Backward-shift deletion: move later entries of the probe run into the hole when their
    // home position does not lie cyclically in (hole, j].
    let hole = i;
    let j = i;
    for (;;) {
      if (++j === capacity) j = 0;
      const entry = table[j]!;
      if (entry === EMPTY) break;
      const home = mix(ids[entry - 1]!) % capacity;
      const homeInGap = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!homeInGap) {
        table[hole] = entry;
        hole = j;
      }
    }
    table[hole] = EMPTY;
    this.count--;
    return removed;
  }

  /** Makes room for `total` ids at once, so that a bulk insert rehashes at most once. */
  reserve(total: number, ids: Uint32Array): void {
    if (total > this.table.length * MAX_LOAD) this.rehash(IdSlotMap.capacityFor(total), ids);
  }

  /** Forgets everything and indexes the given live slots afresh. */
  rebuild(ids: Uint32Array, liveSlots: Iterable<number>, expectedIds: number): void {
    this.table = new Uint32Array(IdSlotMap.capacityFor(expectedIds));
    this.count = 0;
    for (const slot of liveSlots) this.set(ids[slot]!, slot, ids);
  }

  private rehash(capacity: number, ids: Uint32Array): void {
    const old = this.table;
    this.table = new Uint32Array(capacity);
    this.count = 0;
    for (let i = 0; i < old.length; i++) {
      const entry = old[i]!;
      if (entry !== EMPTY) this.set(ids[entry - 1]!, entry - 1, ids);
    }
  }
}
