/**
 * The slot store under both index implementations. Every `(id, hash)` pair occupies a slot:
 * the hash's 32 bytes in a shared WebAssembly memory (where the popcount kernels and worker
 * threads read it), the id in a shared slot → id array. Slots are only appended; deleting or
 * replacing an id marks its old slot dead in a shared bitmap, so structures that refer to slots
 * (the multi-index tables, searches running in workers) stay valid. `compact` renumbers the
 * live slots once dead ones pile up; callers run it only when no worker is reading.
 */
import { hashesOffset } from './memory-lanes.js';
import { IdSlotMap } from './id-slot-map.js';
import { popcount32 } from './popcount.js';
import { instantiatePopcountKernel, MAX_MEMORY_PAGES, type PopcountKernel } from './wasm/popcount-kernel.js';
import { webAssembly, type SharedWasmMemory } from '../runtime/wasm/webassembly-api.js';

const PAGE_BYTES = 65536;
const MIN_CAPACITY = 1024;

/** What a worker needs to read the store: sent by message, nothing copied. */
export interface StoreSnapshot {
  readonly memory: SharedWasmMemory;
  /** Changes when the store moves to another memory. */
  readonly memoryGeneration: number;
  /** Byte address of slot 0. */
  readonly hashes: number;
  /** Slots [0, slotCount) existed when the snapshot was taken. */
  readonly slotCount: number;
  readonly ids: Uint32Array;
  readonly deadBits: Int32Array;
}

export function isDeadSlot(deadBits: Int32Array, slot: number): boolean {
  return ((deadBits[slot >>> 5]! >>> (slot & 31)) & 1) === 1;
}

function sharedUint32(length: number): Uint32Array {
  return new Uint32Array(new SharedArrayBuffer(Math.max(4, length * 4)));
}

function sharedInt32(length: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(Math.max(4, length * 4)));
}

/** Shared memories must declare a maximum; reserving twice the need keeps relocations rare. */
function maximumPagesFor(pages: number): number {
  return Math.min(MAX_MEMORY_PAGES, Math.max(pages * 2, 64));
}

export class HashStore {
  readonly hashes: number;
  memory: SharedWasmMemory;
  kernel: PopcountKernel;
  /** Views of `memory` covering at least every slot below `capacity`. */
  bytes!: Uint8Array;
  words!: Uint32Array;
  ids: Uint32Array;
  deadBits: Int32Array;
  /** Slots in use, live or dead. */
  slotCount = 0;
  private liveCount = 0;
  private capacity: number;
  private readonly idMap: IdSlotMap;
  private maximumPages: number;
  /** Bumped whenever slots are renumbered. */
  version = 0;
  /** Bumped whenever the hashes move to another memory. */
  memoryGeneration = 0;
  /** Dead slots below `boundary` (see `trackDeadBelow`). */
  deadBelowBoundary = 0;
  private boundary = 0;

  constructor(laneCount: number, expectedSlots = 0) {
    this.hashes = hashesOffset(laneCount);
    this.capacity = Math.max(MIN_CAPACITY, expectedSlots);
    const pages = this.pagesFor(this.capacity);
    this.maximumPages = maximumPagesFor(pages);
    this.memory = new webAssembly.Memory({ initial: pages, maximum: this.maximumPages, shared: true });
    this.kernel = instantiatePopcountKernel(this.memory);
    this.refreshViews();
    this.ids = sharedUint32(this.capacity);
    this.deadBits = sharedInt32(Math.ceil(this.capacity / 32));
    this.idMap = new IdSlotMap(expectedSlots);
  }

  /** Live ids. */
  get size(): number {
    return this.liveCount;
  }

  get deadCount(): number {
    return this.slotCount - this.liveCount;
  }

  get memoryBytes(): number {
    return this.memory.buffer.byteLength + this.ids.byteLength + this.deadBits.byteLength + this.idMap.bytes;
  }

  snapshot(): StoreSnapshot {
    return { memory: this.memory, memoryGeneration: this.memoryGeneration, hashes: this.hashes, slotCount: this.slotCount, ids: this.ids, deadBits: this.deadBits };
  }

  slotOf(id: number): number {
    return this.idMap.get(id, this.ids);
  }

  isDead(slot: number): boolean {
    return isDeadSlot(this.deadBits, slot);
  }

  /** Whether slot `slot` holds the 32 bytes at `source[offset…]`. */
  hashEquals(slot: number, source: Uint8Array, offset: number): boolean {
    const bytes = this.bytes;
    const base = this.hashes + slot * 32;
    for (let i = 0; i < 32; i++) if (bytes[base + i] !== source[offset + i]) return false;
    return true;
  }

  /**
   * Stores `id` with the hash at `source[offset…offset+31]` in a new slot; a previous slot of
   * `id` is marked dead. Answers the new slot.
   */
  append(id: number, source: Uint8Array, offset: number): number {
    this.ensureCapacity(this.slotCount + 1);
    const slot = this.slotCount++;
    this.bytes.set(source.subarray(offset, offset + 32), this.hashes + slot * 32);
    this.ids[slot] = id;
    const previous = this.idMap.set(id, slot, this.ids);
    this.liveCount++;
    if (previous >= 0) this.markDead(previous);
    return slot;
  }

  /** Bulk `append`: `ids[i]` with `hashes[32 i…]`; a later duplicate of an id wins. */
  appendMany(ids: Uint32Array, hashes: Uint8Array): void {
    const first = this.slotCount;
    this.ensureCapacity(first + ids.length);
    this.bytes.set(hashes, this.hashes + first * 32);
    this.ids.set(ids, first);
    this.slotCount += ids.length;
    this.idMap.reserve(this.liveCount + ids.length, this.ids);
    for (let i = 0; i < ids.length; i++) {
      const previous = this.idMap.set(ids[i]!, first + i, this.ids);
      this.liveCount++;
      if (previous >= 0) this.markDead(previous);
    }
  }

  /** Forgets `id`; answers the slot it had, or -1. */
  remove(id: number): number {
    const slot = this.idMap.delete(id, this.ids);
    if (slot >= 0) this.markDead(slot);
    return slot;
  }

  private markDead(slot: number): void {
    this.deadBits[slot >>> 5]! |= 1 << (slot & 31);
    this.liveCount--;
    if (slot < this.boundary) this.deadBelowBoundary++;
  }

  /** Counts dead slots below `boundary` from now on (the multi-index tables' end). */
  trackDeadBelow(boundary: number): void {
    const deadBits = this.deadBits;
    let dead = 0;
    const fullWords = boundary >>> 5;
    for (let w = 0; w < fullWords; w++) dead += popcount32(deadBits[w]!);
    const rest = boundary & 31;
    if (rest > 0) dead += popcount32(deadBits[fullWords]! & ((1 << rest) - 1));
    this.boundary = boundary;
    this.deadBelowBoundary = dead;
  }

  /** Moves the live slots down over the dead ones, keeping their order. */
  compact(): void {
    const { bytes, ids, deadBits } = this;
    let write = 0;
    let read = 0;
    while (read < this.slotCount) {
      if (isDeadSlot(deadBits, read)) {
        read++;
        continue;
      }
      let end = read + 1;
      while (end < this.slotCount && !isDeadSlot(deadBits, end)) end++;
      if (write !== read) {
        bytes.copyWithin(this.hashes + write * 32, this.hashes + read * 32, this.hashes + end * 32);
        ids.copyWithin(write, read, end);
      }
      write += end - read;
      read = end;
    }
    this.slotCount = write;
    this.liveCount = write;
    deadBits.fill(0);
    this.boundary = 0;
    this.deadBelowBoundary = 0;
    this.idMap.rebuild(ids, liveRange(write), write);
    this.version++;
  }

  private pagesFor(slots: number): number {
    return Math.ceil((this.hashes + slots * 32) / PAGE_BYTES);
  }

  private ensureCapacity(slots: number): void {
    if (slots <= this.capacity) return;
    const capacity = Math.max(slots, Math.floor(this.capacity * 1.125), MIN_CAPACITY);
    const pages = this.pagesFor(capacity);
    if (pages > MAX_MEMORY_PAGES) throw new RangeError(`a hash store holds at most ${Math.floor((MAX_MEMORY_PAGES * PAGE_BYTES - this.hashes) / 32)} slots`);
    const currentPages = this.memory.buffer.byteLength / PAGE_BYTES;
    if (pages > currentPages) {
      if (pages > this.maximumPages) this.relocate(pages);
      else this.memory.grow(pages - currentPages);
      this.refreshViews();
    }
    const ids = sharedUint32(capacity);
    ids.set(this.ids.subarray(0, this.slotCount));
    this.ids = ids;
    const deadBits = sharedInt32(Math.ceil(capacity / 32));
    deadBits.set(this.deadBits);
    this.deadBits = deadBits;
    this.capacity = capacity;
  }

  /** Moves everything to a larger memory; workers still holding the old one keep reading valid data. */
  private relocate(pages: number): void {
    this.maximumPages = maximumPagesFor(pages);
    const memory = new webAssembly.Memory({ initial: pages, maximum: this.maximumPages, shared: true });
    new Uint8Array(memory.buffer).set(new Uint8Array(this.memory.buffer, 0, this.hashes + this.slotCount * 32));
    this.memory = memory;
    this.memoryGeneration++;
    this.kernel = instantiatePopcountKernel(memory);
  }

  private refreshViews(): void {
    this.bytes = new Uint8Array(this.memory.buffer);
    this.words = new Uint32Array(this.memory.buffer);
  }
}

function* liveRange(count: number): Generator<number> {
  for (let slot = 0; slot < count; slot++) yield slot;
}
