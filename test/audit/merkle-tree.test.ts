import { describe, expect, it } from 'vitest';
import {
  consistencyProof,
  EMPTY_ROOT,
  frontierPositions,
  inclusionProof,
  leafHash,
  MerkleFrontier,
  nodeHash,
  rangeHash,
  verifyConsistency,
  verifyInclusion,
  type Digest,
  type SubtreeNode,
} from '../../src/audit/merkle-tree.js';

const leaves = (n: number): Digest[] => Array.from({ length: n }, (_, i) => leafHash(`entry ${i}`));

/** MTH exactly as RFC 6962 §2.1 defines it, by recursion over the leaves. */
function mth(hashes: readonly Digest[]): Digest {
  if (hashes.length === 0) return EMPTY_ROOT;
  if (hashes.length === 1) return hashes[0]!;
  let k = 1;
  while (k * 2 < hashes.length) k *= 2;
  return nodeHash(mth(hashes.slice(0, k)), mth(hashes.slice(k)));
}

/** A store of the subtrees a frontier completed, as the database keeps them. */
function grow(n: number): { frontier: MerkleFrontier; read: (level: number, index: number) => Digest; hashes: Digest[] } {
  const hashes = leaves(n);
  const frontier = new MerkleFrontier();
  const nodes = new Map<string, Digest>();
  for (const leaf of hashes) for (const node of frontier.append(leaf)) nodes.set(`${node.level}/${node.index}`, node.hash);
  return {
    frontier,
    hashes,
    read: (level, index) => {
      const hash = nodes.get(`${level}/${index}`);
      if (!hash) throw new Error(`no stored subtree ${level}/${index}`);
      return hash;
    },
  };
}

describe('RFC 6962 hashing', () => {
  it('prefixes leaves with 0x00 and nodes with 0x01', () => {
    expect(leafHash('').toString('hex')).toBe('6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
    expect(EMPTY_ROOT.toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    const [a, b, c] = leaves(3);
    expect(mth([a!, b!, c!]).equals(nodeHash(nodeHash(a!, b!), c!))).toBe(true);
  });

  it('builds the same root incrementally as by recursion, for every size up to 70', () => {
    for (let n = 0; n <= 70; n++) {
      const { frontier, hashes, read } = grow(n);
      expect(frontier.root().equals(mth(hashes))).toBe(true);
      if (n > 0) expect(rangeHash(read, 0, n).equals(mth(hashes))).toBe(true);
      // The frontier can be rebuilt from the stored subtrees alone.
      const rebuilt = new MerkleFrontier(n, frontierPositions(n).map((p) => read(p.level, p.index)));
      expect(rebuilt.root().equals(frontier.root())).toBe(true);
    }
  });

  it('stores every completed perfect subtree exactly once', () => {
    const frontier = new MerkleFrontier();
    const completed: SubtreeNode[] = [];
    for (const leaf of leaves(8)) completed.push(...frontier.append(leaf));
    expect(completed.map((n) => `${n.level}/${n.index}`).sort()).toEqual(['0/0', '0/1', '0/2', '0/3', '0/4', '0/5', '0/6', '0/7', '1/0', '1/1', '1/2', '1/3', '2/0', '2/1', '3/0'].sort());
  });
});

describe('RFC 6962 §2.1.3 example tree of 7 leaves', () => {
  const { read, hashes } = grow(7);
  const [a, b, c, d, e, f, j] = hashes as [Digest, Digest, Digest, Digest, Digest, Digest, Digest];
  const g = nodeHash(a, b);
  const h = nodeHash(c, d);
  const i = nodeHash(e, f);
  const k = nodeHash(g, h);
  const l = nodeHash(i, j);
  const root = nodeHash(k, l);
  const hex = (list: Digest[]) => list.map((x) => x.toString('hex'));

  it('answers the RFC audit paths', () => {
    expect(hex(inclusionProof(read, 0, 7))).toEqual(hex([b, h, l]));
    expect(hex(inclusionProof(read, 3, 7))).toEqual(hex([c, g, l]));
    expect(hex(inclusionProof(read, 4, 7))).toEqual(hex([f, j, k]));
    expect(hex(inclusionProof(read, 6, 7))).toEqual(hex([i, k]));
    expect(rangeHash(read, 0, 7).equals(root)).toBe(true);
  });

  it('answers the RFC consistency proofs', () => {
    expect(hex(consistencyProof(read, 3, 7))).toEqual(hex([c, d, g, l]));
    expect(hex(consistencyProof(read, 4, 7))).toEqual(hex([l]));
    expect(hex(consistencyProof(read, 6, 7))).toEqual(hex([i, j, k]));
  });
});

describe('proofs verify, and fail when tampered', () => {
  const N = 40;
  const { read, hashes } = grow(N);
  const roots = Array.from({ length: N + 1 }, (_, n) => mth(hashes.slice(0, n)));

  it('verifies every inclusion proof of every tree size up to 40', () => {
    for (let n = 1; n <= N; n++) {
      for (let m = 0; m < n; m++) {
        const proof = inclusionProof(read, m, n);
        expect(verifyInclusion(hashes[m]!, m, n, proof, roots[n]!)).toBe(true);
        expect(verifyInclusion(hashes[(m + 1) % n]!, m, n, proof, roots[n]!)).toBe(n === 1 ? hashes[(m + 1) % n]!.equals(hashes[m]!) : false);
        if (proof.length > 0) {
          const bad = proof.map((p, idx) => (idx === 0 ? leafHash('forged') : p));
          expect(verifyInclusion(hashes[m]!, m, n, bad, roots[n]!)).toBe(false);
        }
        expect(verifyInclusion(hashes[m]!, n, n, proof, roots[n]!)).toBe(false);
      }
    }
  });

  it('verifies every consistency proof between sizes up to 40', () => {
    for (let n = 1; n <= N; n++) {
      for (let m = 1; m <= n; m++) {
        const proof = consistencyProof(read, m, n);
        expect(verifyConsistency(m, n, proof, roots[m]!, roots[n]!)).toBe(true);
        if (m < n) {
          expect(verifyConsistency(m, n, proof, leafHash('other history'), roots[n]!)).toBe(false);
          expect(verifyConsistency(m, n, proof, roots[m]!, leafHash('other head'))).toBe(false);
          expect(verifyConsistency(m, n, [], roots[m]!, roots[n]!)).toBe(false);
        }
      }
    }
  });
});
