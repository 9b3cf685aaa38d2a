/**
 * The postings of a substring table: slot numbers packed in 3 bytes while every slot is below
 * 2^24 (16.7 million), in 4 bytes beyond. At 10 million hashes and m = 11 the narrow form saves
 * 11 bytes per hash, the difference between fitting the 100-byte budget and not. Stored in a
 * `SharedArrayBuffer` (so that workers read it in place) with some spare capacity, so that a
 * merge splices new postings in by moving runs within the buffer rather than reallocating it.
 *
 * The m lists of a table set are allocated together, as slices of one buffer: a buffer of tens of
 * MiB (from about 800,000 hashes) is always a mapping of its own, given back to the system as
 * soon as it is collected. m buffers of a few MiB each are not: glibc's malloc raises its mmap
 * threshold to the size of the first large block freed (up to 32 MiB), so every later
 * generation of lists was carved out of the main heap, where the superseded ones stayed resident
 * as free space: +74 MiB of heap over 12 merges at 1,000,000 hashes (docs/reliability.md, Load).
 */

const NARROW_LIMIT = 2 ** 24;

export interface PostingList {
  /** Room for this many postings. */
  readonly capacity: number;
  /** 3 or 4 bytes per posting. */
  readonly width: 3 | 4;
  readonly bytes: Uint8Array;
  /** The same buffer as 32-bit words when `width` is 4, else null. */
  readonly words: Uint32Array | null;
}

export function postingWidthFor(slotLimit: number): 3 | 4 {
  return slotLimit <= NARROW_LIMIT ? 3 : 4;
}

/** Slices start on 8-byte boundaries, so that 4-byte postings can be read as 32-bit words. */
const SLICE_ALIGN = 8;

/** `lists` posting lists, each with room for `capacity` postings of slots below `slotLimit`, in one shared buffer. */
export function allocatePostingLists(lists: number, capacity: number, slotLimit: number): PostingList[] {
  const width = postingWidthFor(slotLimit);
  const stride = Math.ceil(Math.max(4, capacity * width) / SLICE_ALIGN) * SLICE_ALIGN;
  const buffer = new SharedArrayBuffer(stride * lists);
  return Array.from({ length: lists }, (_, i) => ({
    capacity,
    width,
    bytes: new Uint8Array(buffer, i * stride, capacity * width),
    words: width === 4 ? new Uint32Array(buffer, i * stride, capacity) : null,
  }));
}

export function postingAt(list: PostingList, index: number): number {
  if (list.words !== null) return list.words[index]!;
  const bytes = list.bytes;
  const at = index * 3;
  return bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16);
}

export function setPosting(list: PostingList, index: number, slot: number): void {
  if (list.words !== null) {
    list.words[index] = slot;
    return;
  }
  const bytes = list.bytes;
  const at = index * 3;
  bytes[at] = slot;
  bytes[at + 1] = slot >>> 8;
  bytes[at + 2] = slot >>> 16;
}

/** Copies postings [from, to) of `source` to `target` starting at `at`. */
export function copyPostings(source: PostingList, from: number, to: number, target: PostingList, at: number): void {
  if (source.width === target.width) {
    const width = source.width;
    target.bytes.set(source.bytes.subarray(from * width, to * width), at * width);
    return;
  }
  for (let p = from; p < to; p++) setPosting(target, at + p - from, postingAt(source, p));
}

/** Moves postings [from, to) of `list` `by` places towards the end. */
export function shiftPostings(list: PostingList, from: number, to: number, by: number): void {
  const width = list.width;
  list.bytes.copyWithin((from + by) * width, from * width, to * width);
}
