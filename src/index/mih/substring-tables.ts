/**
 * The multi-index hashing tables: for each substring, the slots grouped by substring value in
 * compact CSR form, all in `SharedArrayBuffer`s so that search workers read them in place.
 *
 * Bucket bounds cost about one byte per key instead of four: keys are grouped by 32, each group
 * has an absolute start (`groupStart`, Int32) and each key the end of its bucket relative to
 * that start (`keyEnd`, Uint8). A group holding more than 255 postings (clustered data, many ids
 * sharing a hash) is "spilled": its `groupStart` is `~s` and its 33 absolute bounds are
 * `spill[33 s … 33 s + 32]`. Postings are slot numbers, ascending within a bucket.
 *
 * `buildTables` indexes the live slots of a range from scratch (a partitioned counting sort per
 * table), reading shared data only, so a worker can run it off the main thread. `mergeTables`
 * splices the slots added since into existing tables in place: only while nobody else reads them.
 */
import { isDeadSlot } from '../hash-store.js';
import { allocatePostingLists, copyPostings, postingWidthFor, setPosting, shiftPostings, type PostingList } from './posting-list.js';
import type { SubstringLayout } from './substring-layout.js';

export const GROUP_KEYS = 32;
const SPILL_STRIDE = GROUP_KEYS + 1;
const MAX_RELATIVE_END = 255;
/** Slots are below 2^27 (4 GiB of 32-byte hashes), so `key · 2^27 + slot` is an exact float64. */
const SLOT_SPAN = 2 ** 27;

/**
 * Posting capacity with spare room for merges in place: 1/64 of the postings (at least 1024) when
 * the tables are built, 1/16 when a merge outgrows them. Tables that outgrew their room are being
 * added to, and moving every posting to new lists cost as much as a merge itself: with 1/64 it
 * happened every second merge at 1 M hashes, with 1/16 it happens every eighth.
 */
function postingCapacityFor(count: number, spareShare: number): number {
  return count + Math.max(1024, Math.ceil(count * spareShare));
}
const BUILD_SPARE_SHARE = 1 / 64;
const GROWTH_SPARE_SHARE = 1 / 16;

export interface SubstringTable {
  readonly groupStart: Int32Array;
  readonly keyEnd: Uint8Array;
  /** Bounds of the spilled groups, 33 per group; `spilledGroups` of them in use. */
  readonly spill: Uint32Array;
  readonly spilledGroups: number;
  readonly postings: PostingList;
}

export type BucketBounds = Pick<SubstringTable, 'groupStart' | 'keyEnd' | 'spill'>;

export interface TableSet {
  readonly layout: SubstringLayout;
  readonly tables: readonly SubstringTable[];
  /** The tables index the slots below `slotEnd` that were live when they were built or merged in. */
  readonly slotEnd: number;
  /** Postings per table. */
  readonly postingCount: number;
}

/** Where the hashes are: `words` views the shared memory, slot s starts at word `hashesWord + 8 s`. */
export interface SlotSource {
  readonly words: Uint32Array;
  readonly hashesWord: number;
  readonly deadBits: Int32Array;
}

export function tableSetBytes(set: TableSet): number {
  let bytes = 0;
  for (const t of set.tables) bytes += t.groupStart.byteLength + t.keyEnd.byteLength + t.spill.byteLength + t.postings.bytes.byteLength;
  return bytes;
}

/** Sets `start`/`end` of the bucket of `key`: answers `start`, leaves `end` in `bounds[0]`. */
export function bucketStart(table: BucketBounds, key: number, bounds: Int32Array): number {
  const base = table.groupStart[key >>> 5]!;
  if (base >= 0) {
    bounds[0] = base + table.keyEnd[key]!;
    return (key & 31) === 0 ? base : base + table.keyEnd[key - 1]!;
  }
  const at = ~base * SPILL_STRIDE + (key & 31);
  bounds[0] = table.spill[at + 1]!;
  return table.spill[at]!;
}

function sharedUint32(length: number): Uint32Array {
  return new Uint32Array(new SharedArrayBuffer(Math.max(4, length * 4)));
}

/** Writes bucket bounds group by group into the compact form. */
class BoundsWriter {
  readonly groupStart: Int32Array;
  readonly keyEnd: Uint8Array;
  private readonly spills: number[] = [];
  private readonly keys: number;

  constructor(bits: number) {
    this.keys = 2 ** bits;
    this.groupStart = new Int32Array(new SharedArrayBuffer(Math.ceil(this.keys / GROUP_KEYS) * 4));
    this.keyEnd = new Uint8Array(new SharedArrayBuffer(this.keys));
  }

  /** Group `group` starts at `start`; its keys' buckets end at `ends[0…]` (absolute). */
  write(group: number, start: number, ends: Uint32Array): void {
    const first = group * GROUP_KEYS;
    const count = Math.min(GROUP_KEYS, this.keys - first);
    const total = ends[count - 1]! - start;
    if (total <= MAX_RELATIVE_END) {
      this.groupStart[group] = start;
      for (let j = 0; j < count; j++) this.keyEnd[first + j] = ends[j]! - start;
      return;
    }
    this.groupStart[group] = ~(this.spills.length / SPILL_STRIDE);
    this.spills.push(start);
    for (let j = 0; j < GROUP_KEYS; j++) this.spills.push(ends[Math.min(j, count - 1)]!);
  }

  get spilledGroups(): number {
    return this.spills.length / SPILL_STRIDE;
  }

  spill(): Uint32Array {
    const spill = sharedUint32(this.spills.length);
    spill.set(this.spills);
    return spill;
  }
}

/** Live slots of [from, to). */
function liveSlots(deadBits: Int32Array, from: number, to: number): Uint32Array {
  let count = 0;
  for (let s = from; s < to; s++) if (!isDeadSlot(deadBits, s)) count++;
  const slots = new Uint32Array(count);
  let n = 0;
  for (let s = from; s < to; s++) if (!isDeadSlot(deadBits, s)) slots[n++] = s;
  return slots;
}

/** Substring `table` of every slot in `slots`, into `keys`. */
function substringKeys(layout: SubstringLayout, table: number, source: SlotSource, slots: Uint32Array, keys: Uint32Array): void {
  const start = layout.starts[table]!;
  const length = layout.lengths[table]!;
  const { words, hashesWord } = source;
  const offset = hashesWord + (start >>> 5);
  const shift = start & 31;
  const mask = (2 ** length - 1) >>> 0;
  const crosses = shift + length > 32;
  for (let i = 0; i < slots.length; i++) {
    const at = offset + slots[i]! * 8;
    let value = words[at]! >>> shift;
    if (crosses) value |= words[at + 1]! << (32 - shift);
    keys[i] = (value & mask) >>> 0;
  }
}

/** Key bits sorted within one cache-sized partition (2^15 counters = 128 KiB). */
const PARTITION_LOW_BITS = 15;

/** Scratch arrays of a build, reused from table to table. */
class BuildScratch {
  readonly keys: Uint32Array;
  readonly partitionKeys: Uint32Array;
  readonly partitionSlots: Uint32Array;
  readonly lowCounts = new Uint32Array(2 ** PARTITION_LOW_BITS);
  bucketEnds = new Uint32Array(0);

  constructor(size: number) {
    this.keys = new Uint32Array(size);
    this.partitionKeys = new Uint32Array(size);
    this.partitionSlots = new Uint32Array(size);
  }
}

/** Indexes the live slots of [0, slotEnd) from scratch. */
export function buildTables(layout: SubstringLayout, source: SlotSource, slotEnd: number): TableSet {
  const slots = liveSlots(source.deadBits, 0, slotEnd);
  const scratch = new BuildScratch(slots.length);
  const postings = allocatePostingLists(layout.lengths.length, postingCapacityFor(slots.length, BUILD_SPARE_SHARE), slotEnd);
  const tables: SubstringTable[] = [];
  for (let t = 0; t < layout.lengths.length; t++) {
    substringKeys(layout, t, source, slots, scratch.keys);
    tables.push(buildTable(layout.lengths[t]!, slots, scratch, postings[t]!));
  }
  return { layout, tables, slotEnd, postingCount: slots.length };
}

/**
 * One table: `slots[i]` has key `scratch.keys[i]`. A counting sort over 2^bits buckets would
 * miss the cache on nearly every step at 10 million slots, so the slots are first partitioned by
 * their high key bits (a few hundred sequential output streams) and each partition is then
 * counting-sorted by its low bits with counters that stay in cache. Stable: buckets list their
 * slots in ascending order.
 */
function buildTable(bits: number, slots: Uint32Array, scratch: BuildScratch, postings: PostingList): SubstringTable {
  const { keys, partitionKeys, partitionSlots, lowCounts } = scratch;
  const n = slots.length;
  const keyCount = 2 ** bits;
  const lowBits = Math.min(bits, PARTITION_LOW_BITS);
  const lowMask = 2 ** lowBits - 1;
  const partitions = 2 ** (bits - lowBits);
  if (scratch.bucketEnds.length !== keyCount) scratch.bucketEnds = new Uint32Array(keyCount);
  const bucketEnds = scratch.bucketEnds;

  const partitionStarts = new Uint32Array(partitions + 1);
  for (let i = 0; i < n; i++) partitionStarts[(keys[i]! >>> lowBits) + 1]!++;
  for (let p = 0; p < partitions; p++) partitionStarts[p + 1]! += partitionStarts[p]!;
  const cursor = partitionStarts.slice(0, partitions);
  for (let i = 0; i < n; i++) {
    const key = keys[i]!;
    const at = cursor[key >>> lowBits]!++;
    partitionKeys[at] = key & lowMask;
    partitionSlots[at] = slots[i]!;
  }

  const lowKeys = lowMask + 1;
  for (let p = 0; p < partitions; p++) {
    const from = partitionStarts[p]!;
    const to = partitionStarts[p + 1]!;
    lowCounts.fill(0, 0, lowKeys);
    for (let j = from; j < to; j++) lowCounts[partitionKeys[j]!]!++;
    for (let k = 0, sum = from; k < lowKeys; k++) {
      const count = lowCounts[k]!;
      lowCounts[k] = sum;
      sum += count;
    }
    for (let j = from; j < to; j++) setPosting(postings, lowCounts[partitionKeys[j]!]!++, partitionSlots[j]!);
    // lowCounts[k] is now the end of bucket (p, k).
    bucketEnds.set(lowCounts.subarray(0, lowKeys), p * lowKeys);
  }

  const writer = new BoundsWriter(bits);
  for (let group = 0, start = 0; group * GROUP_KEYS < keyCount; group++) {
    const first = group * GROUP_KEYS;
    const ends = bucketEnds.subarray(first, Math.min(keyCount, first + GROUP_KEYS));
    writer.write(group, start, ends);
    start = ends[ends.length - 1]!;
  }
  return { groupStart: writer.groupStart, keyEnd: writer.keyEnd, spill: writer.spill(), spilledGroups: writer.spilledGroups, postings };
}

/**
 * Adds the live slots of [previous.slotEnd, slotEnd) to the tables of `previous`, in place:
 * `previous` must not be read afterwards, nor by anyone while this runs. Postings of slots that
 * died since the build are kept (hits on them are dropped at query time); the owner rebuilds
 * from scratch once they add up. Per table: one pass moving the postings to make room (within
 * the spare capacity, so no new memory and no page faults), one pass over the group starts, and
 * a rewrite of the groups that received postings — milliseconds, even at 10 million hashes.
 */
export function mergeTables(previous: TableSet, source: SlotSource, slotEnd: number): TableSet {
  const { layout } = previous;
  const added = liveSlots(source.deadBits, previous.slotEnd, slotEnd);
  const keys = new Uint32Array(added.length);
  const order = new Float64Array(added.length);
  const sortedKeys = new Uint32Array(added.length);
  const sortedSlots = new Uint32Array(added.length);
  const count = previous.postingCount;
  // The tables hold the same number of postings: either all fit in place, or all move to new lists in one buffer.
  const fit = previous.tables.every(({ postings }) => postings.capacity >= count + added.length && postings.width === postingWidthFor(slotEnd));
  const grown = fit ? null : allocatePostingLists(previous.tables.length, postingCapacityFor(count + added.length, GROWTH_SPARE_SHARE), slotEnd);
  const tables = previous.tables.map((old, t) => {
    substringKeys(layout, t, source, added, keys);
    for (let i = 0; i < added.length; i++) order[i] = keys[i]! * SLOT_SPAN + added[i]!;
    order.sort();
    for (let i = 0; i < order.length; i++) {
      const key = Math.floor(order[i]! / SLOT_SPAN);
      sortedKeys[i] = key;
      sortedSlots[i] = order[i]! - key * SLOT_SPAN;
    }
    return mergeTable(old, layout.lengths[t]!, count, sortedKeys, sortedSlots, grown?.[t] ?? null);
  });
  return { layout, tables, slotEnd, postingCount: count + added.length };
}

/**
 * `table` (holding `count` postings) plus `slots[i]` under `keys[i]`, sorted by key then slot:
 * in place when `target` is null (the caller checked the room), else with the postings copied to `target`.
 */
function mergeTable(table: SubstringTable, bits: number, count: number, keys: Uint32Array, slots: Uint32Array, target: PostingList | null): SubstringTable {
  const added = keys.length;
  const bounds = new Int32Array(1);
  const insertAt = new Uint32Array(added);
  for (let i = 0; i < added; i++) {
    bucketStart(table, keys[i]!, bounds);
    insertAt[i] = bounds[0]!;
  }
  // Postings: each new one goes to the end of its bucket.
  let postings = table.postings;
  if (target === null) {
    for (let i = added - 1, tail = count; i >= 0; i--) {
      const at = insertAt[i]!;
      shiftPostings(postings, at, tail, i + 1);
      setPosting(postings, at + i, slots[i]!);
      tail = at;
    }
  } else {
    let copied = 0;
    for (let i = 0; i < added; i++) {
      const at = insertAt[i]!;
      copyPostings(postings, copied, at, target, copied + i);
      setPosting(target, at + i, slots[i]!);
      copied = at;
    }
    copyPostings(postings, copied, count, target, copied + added);
    postings = target;
  }
  // Bounds, group by group; each group's old bounds are read before they are rewritten.
  const { groupStart, keyEnd } = table;
  let { spill, spilledGroups } = table;
  const current: { -readonly [K in keyof BucketBounds]: BucketBounds[K] } = { groupStart, keyEnd, spill };
  const keyCount = 2 ** bits;
  const ends = new Uint32Array(GROUP_KEYS);
  let next = 0;
  for (let group = 0; group * GROUP_KEYS < keyCount; group++) {
    const first = group * GROUP_KEYS;
    const shift = next;
    const base = groupStart[group]!;
    if (next === added || keys[next]! >= first + GROUP_KEYS) {
      if (shift === 0) continue;
      if (base >= 0) groupStart[group] = base + shift;
      else for (let j = ~base * SPILL_STRIDE, end = j + SPILL_STRIDE; j < end; j++) spill[j]! += shift;
      continue;
    }
    const keysInGroup = Math.min(GROUP_KEYS, keyCount - first);
    if (base >= 0) {
      // A compact group that stays compact: it moves by `shift`, and each key's relative end
      // grows by the new postings at or before that key — no bounds need reading.
      const groupEnd = first + keysInGroup;
      let last = next;
      while (last < added && keys[last]! < groupEnd) last++;
      if (keyEnd[groupEnd - 1]! + (last - next) <= MAX_RELATIVE_END) {
        groupStart[group] = base + shift;
        for (let key = keys[next]!, grown = 0; key < groupEnd; key++) {
          while (next < last && keys[next] === key) {
            next++;
            grown++;
          }
          keyEnd[key]! += grown;
        }
        continue;
      }
    }
    const start = bucketStart(current, first, bounds) + shift;
    for (let j = 0; j < keysInGroup; j++) {
      bucketStart(current, first + j, bounds);
      while (next < added && keys[next] === first + j) next++;
      ends[j] = bounds[0]! + next;
    }
    if (base >= 0 && ends[keysInGroup - 1]! - start <= MAX_RELATIVE_END) {
      groupStart[group] = start;
      for (let j = 0; j < keysInGroup; j++) keyEnd[first + j] = ends[j]! - start;
      continue;
    }
    let index = ~base;
    if (base >= 0) {
      index = spilledGroups++;
      if (spill.length < spilledGroups * SPILL_STRIDE) {
        const grown = sharedUint32(Math.max(SPILL_STRIDE * 64, spill.length * 2));
        grown.set(spill);
        spill = grown;
        current.spill = grown;
      }
    }
    const at = index * SPILL_STRIDE;
    spill[at] = start;
    for (let j = 0; j < GROUP_KEYS; j++) spill[at + 1 + j] = ends[Math.min(j, keysInGroup - 1)]!;
    groupStart[group] = ~index;
  }
  return { groupStart, keyEnd, spill, spilledGroups, postings };
}
