/**
 * The postings of a substring table: slot numbers packed in 3 bytes while every slot is below
 * 2^24 (16.7 million), in 4 bytes beyond. At 10 million hashes and m = 11 the narrow form saves
 * 11 bytes per hash, the difference between fitting the 100-byte budget and not. Stored in a
 * `SharedArrayBuffer` (so that workers read it in place) with some spare capacity, so that a
 * merge splices new postings in by moving runs within the buffer rather than reallocating it.
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

/** Room for `capacity` postings of slots below `slotLimit`. */
export function allocatePostings(capacity: number, slotLimit: number): PostingList {
  const width = postingWidthFor(slotLimit);
  const buffer = new SharedArrayBuffer(Math.max(4, capacity * width));
  return { capacity, width, bytes: new Uint8Array(buffer), words: width === 4 ? new Uint32Array(buffer) : null };
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
