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
 * `buildTables` indexes a slot range from scratch (a counting sort per table); `mergeTables`
 * folds the slots added since a previous build into it and drops postings of dead slots.
 * Both are pure functions of shared data, so a worker can run them off the main thread.
 */
import { isDeadSlot } from '../hash-store.js';
import { allocatePostings, postingAt, setPosting, type PostingList } from './posting-list.js';
import type { SubstringLayout } from './substring-layout.js';

export const GROUP_KEYS = 32;
const SPILL_STRIDE = GROUP_KEYS + 1;
const MAX_RELATIVE_END = 255;
/** Slots are below 2^27 (4 GiB of 32-byte hashes), so `key · 2^27 + slot` is an exact float64. */
const SLOT_SPAN = 2 ** 27;

export interface SubstringTable {
  readonly groupStart: Int32Array;
  readonly keyEnd: Uint8Array;
  readonly spill: Uint32Array;
  readonly postings: PostingList;
}

export interface TableSet {
  readonly layout: SubstringLayout;
  readonly tables: readonly SubstringTable[];
  /** The tables index the slots below `slotEnd` that were live when they were built. */
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
export function bucketStart(table: SubstringTable, key: number, bounds: Int32Array): number {
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
  const tables: SubstringTable[] = [];
  for (let t = 0; t < layout.lengths.length; t++) {
    substringKeys(layout, t, source, slots, scratch.keys);
    tables.push(buildTable(layout.lengths[t]!, slots, scratch, slotEnd));
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
function buildTable(bits: number, slots: Uint32Array, scratch: BuildScratch, slotEnd: number): SubstringTable {
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

  const postings = allocatePostings(n, slotEnd);
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
  return { groupStart: writer.groupStart, keyEnd: writer.keyEnd, spill: writer.spill(), postings };
}

/**
 * The tables of `previous` plus the live slots of [previous.slotEnd, slotEnd), without the
 * postings of slots that died since `previous` was built.
 */
export function mergeTables(previous: TableSet, source: SlotSource, slotEnd: number): TableSet {
  const { layout } = previous;
  const { deadBits } = source;
  const added = liveSlots(deadBits, previous.slotEnd, slotEnd);
  const first = previous.tables[0];
  let kept = 0;
  if (first !== undefined) for (let p = 0; p < previous.postingCount; p++) if (!isDeadSlot(deadBits, postingAt(first.postings, p))) kept++;
  const postingCount = kept + added.length;
  const keys = new Uint32Array(added.length);
  const order = new Float64Array(added.length);
  const ends = new Uint32Array(GROUP_KEYS);
  const bounds = new Int32Array(1);
  const tables = previous.tables.map((old, t) => {
    const bits = layout.lengths[t]!;
    const keyCount = 2 ** bits;
    substringKeys(layout, t, source, added, keys);
    for (let i = 0; i < added.length; i++) order[i] = keys[i]! * SLOT_SPAN + added[i]!;
    order.sort();
    const postings = allocatePostings(postingCount, slotEnd);
    const oldPostings = old.postings;
    const writer = new BoundsWriter(bits);
    let write = 0;
    let next = 0;
    let nextKey = order.length > 0 ? Math.floor(order[0]! / SLOT_SPAN) : keyCount;
    for (let group = 0; group * GROUP_KEYS < keyCount; group++) {
      const groupFirst = group * GROUP_KEYS;
      const count = Math.min(GROUP_KEYS, keyCount - groupFirst);
      const start = write;
      for (let j = 0; j < count; j++) {
        const key = groupFirst + j;
        const from = bucketStart(old, key, bounds);
        for (let p = from, end = bounds[0]!; p < end; p++) {
          const slot = postingAt(oldPostings, p);
          if (!isDeadSlot(deadBits, slot)) setPosting(postings, write++, slot);
        }
        while (nextKey === key) {
          setPosting(postings, write++, order[next]! - key * SLOT_SPAN);
          next++;
          nextKey = next < order.length ? Math.floor(order[next]! / SLOT_SPAN) : keyCount;
        }
        ends[j] = write;
      }
      writer.write(group, start, ends);
    }
    return { groupStart: writer.groupStart, keyEnd: writer.keyEnd, spill: writer.spill(), postings };
  });
  return { layout, tables, slotEnd, postingCount };
}
