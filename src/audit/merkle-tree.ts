/**
 * RFC 6962 Merkle tree arithmetic over the audit log: leaf and node hashes, the incremental
 * frontier (the roots of the perfect subtrees covering the log, at most log2 n of them) that
 * makes an append O(log n) and yields every completed subtree to store, the root, inclusion and
 * consistency proofs computed from stored subtrees (§2.1.1, §2.1.2), and the verification of
 * both proofs as RFC 9162 §2.1.3.2 and §2.1.4.2 describe them.
 */
import { createHash } from 'node:crypto';

export type Digest = Buffer;

const LEAF_PREFIX = Buffer.from([0]);

// One update() per hash: each call into the hash costs more than hashing a few hundred bytes.
export function leafHash(data: Uint8Array | string): Digest {
  const bytes = typeof data === 'string' ? `\u0000${data}` : Buffer.concat([LEAF_PREFIX, data]);
  return createHash('sha256').update(bytes).digest();
}

const nodeInput = Buffer.alloc(65, 1);

export function nodeHash(left: Uint8Array, right: Uint8Array): Digest {
  nodeInput.set(left, 1);
  nodeInput.set(right, 33);
  return createHash('sha256').update(nodeInput).digest();
}

/** The root of the empty tree: SHA-256 of nothing. */
export const EMPTY_ROOT: Digest = createHash('sha256').digest();

/** A completed perfect subtree: `2^level` leaves starting at leaf `index * 2^level`. */
export interface SubtreeNode {
  readonly level: number;
  readonly index: number;
  readonly hash: Digest;
}

/** Largest power of two strictly below `n` (n ≥ 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The perfect subtrees (level, index) whose roots form the frontier of a tree of `size` leaves, left to right. */
export function frontierPositions(size: number): { level: number; index: number }[] {
  const positions: { level: number; index: number }[] = [];
  let offset = 0;
  for (let level = 52; level >= 0; level--) {
    const width = 2 ** level;
    if (size - offset >= width) {
      positions.push({ level, index: offset / width });
      offset += width;
    }
  }
  return positions;
}

/** The right edge of a growing tree: append leaves, read the root. */
export class MerkleFrontier {
  private readonly roots: Digest[];
  private count: number;

  /** `roots` are the hashes at `frontierPositions(size)`, left to right. */
  constructor(size = 0, roots: readonly Digest[] = []) {
    this.count = size;
    this.roots = [...roots];
  }

  get size(): number {
    return this.count;
  }

  clone(): MerkleFrontier {
    return new MerkleFrontier(this.count, this.roots);
  }

  /** The hashes at `frontierPositions(size)`, left to right (what the constructor takes). */
  subtreeRoots(): readonly Digest[] {
    return [...this.roots];
  }

  /** Appends a leaf hash; answers the subtrees it completed, the leaf itself (level 0) first. */
  append(leaf: Digest): SubtreeNode[] {
    const completed: SubtreeNode[] = [{ level: 0, index: this.count, hash: leaf }];
    let hash = leaf;
    let index = this.count;
    let level = 0;
    // A carry, as in a binary counter: every trailing 1 bit of the old size merges two subtrees.
    while (index % 2 === 1) {
      const left = this.roots.pop()!;
      hash = nodeHash(left, hash);
      index = (index - 1) / 2;
      level++;
      completed.push({ level, index, hash });
    }
    this.roots.push(hash);
    this.count++;
    return completed;
  }

  root(): Digest {
    if (this.roots.length === 0) return EMPTY_ROOT;
    let hash = this.roots[this.roots.length - 1]!;
    for (let i = this.roots.length - 2; i >= 0; i--) hash = nodeHash(this.roots[i]!, hash);
    return hash;
  }
}

/** Reads stored perfect subtrees (level 0 = leaf hashes). */
export type SubtreeReader = (level: number, index: number) => Digest;

/** MTH of leaves [start, end), composed from stored perfect subtrees (start is aligned as RFC 6962 recursion guarantees). */
export function rangeHash(read: SubtreeReader, start: number, end: number): Digest {
  const n = end - start;
  if (n <= 0) return EMPTY_ROOT;
  if ((n & (n - 1)) === 0 && start % n === 0) return read(Math.log2(n), start / n);
  const k = splitPoint(n);
  return nodeHash(rangeHash(read, start, start + k), rangeHash(read, start + k, end));
}

/** RFC 6962 §2.1.1 audit path of leaf `m` in the tree of the first `n` leaves. */
export function inclusionProof(read: SubtreeReader, m: number, n: number, start = 0): Digest[] {
  if (n <= 1) return [];
  const k = splitPoint(n);
  if (m < k) return [...inclusionProof(read, m, k, start), rangeHash(read, start + k, start + n)];
  return [...inclusionProof(read, m - k, n - k, start + k), rangeHash(read, start, start + k)];
}

/** RFC 6962 §2.1.2 consistency proof between the trees of the first `m` and `n` leaves. */
export function consistencyProof(read: SubtreeReader, m: number, n: number): Digest[] {
  if (m <= 0 || m >= n) return [];
  return subproof(read, m, 0, n, true);
}

function subproof(read: SubtreeReader, m: number, start: number, n: number, complete: boolean): Digest[] {
  if (m === n) return complete ? [] : [rangeHash(read, start, start + n)];
  const k = splitPoint(n);
  if (m <= k) return [...subproof(read, m, start, k, complete), rangeHash(read, start + k, start + n)];
  return [...subproof(read, m - k, start + k, n - k, false), rangeHash(read, start, start + k)];
}

/** RFC 9162 §2.1.3.2: does `proof` show leaf `index` with hash `leaf` in the tree of `size` with `root`? */
export function verifyInclusion(leaf: Uint8Array, index: number, size: number, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  if (index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r: Uint8Array = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && Buffer.from(r).equals(Buffer.from(root));
}

/** RFC 9162 §2.1.4.2: is the tree of `size2` with `root2` an extension of the tree of `size1` with `root1`? */
export function verifyConsistency(size1: number, size2: number, proof: readonly Uint8Array[], root1: Uint8Array, root2: Uint8Array): boolean {
  const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
  if (size1 > size2) return false;
  if (size1 === size2) return proof.length === 0 && same(root1, root2);
  if (size1 === 0) return proof.length === 0;
  if (proof.length === 0) return false;
  let path = [...proof];
  if ((size1 & (size1 - 1)) === 0) path = [root1, ...path];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr: Uint8Array = path[0]!;
  let sr: Uint8Array = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && same(fr, root1) && same(sr, root2);
}
