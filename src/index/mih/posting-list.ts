/**
 * The postings of a substring table: slot numbers packed in 3 bytes while every slot is below
 * 2^24 (16.7 million), in 4 bytes beyond. At 10 million hashes and m = 11 the narrow form saves
 * 11 bytes per hash, the difference between fitting the 100-byte budget and not. Stored in a
 * `SharedArrayBuffer` so that workers read it in place.
 */

const NARROW_LIMIT = 2 ** 24;

export interface PostingList {
  readonly length: number;
  /** 3 or 4 bytes per posting. */
  readonly width: 3 | 4;
  readonly bytes: Uint8Array;
  /** The same buffer as 32-bit words when `width` is 4, else null. */
  readonly words: Uint32Array | null;
}

/** Room for `length` postings of slots below `slotLimit`. */
export function allocatePostings(length: number, slotLimit: number): PostingList {
  const width = slotLimit <= NARROW_LIMIT ? 3 : 4;
  const buffer = new SharedArrayBuffer(Math.max(4, length * width));
  return { length, width, bytes: new Uint8Array(buffer), words: width === 4 ? new Uint32Array(buffer) : null };
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
