/**
 * PDQ's dihedral hashes: the hashes of the image rotated by 90°, 180°, 270° and mirrored four
 * ways, derived from the original's 16×16 DCT coefficients alone. Rotating or mirroring the
 * 64×64 grid only transposes the coefficient matrix and flips the sign of odd-frequency rows
 * or columns, so one DCT serves all eight orientations. Names follow the reference tool's
 * `--pdqdih` output.
 */
import { DCT_SIZE } from './dct.js';

export const DIHEDRAL_ORIENTATIONS = ['orig', 'rot90', 'rot180', 'rot270', 'flipx', 'flipy', 'flipp', 'flipm'] as const;
export type DihedralOrientation = (typeof DIHEDRAL_ORIENTATIONS)[number];

interface DihedralTransform {
  /** Output coefficient (j, i) takes input (i, j). */
  readonly transpose: boolean;
  /** Sign applied to input coefficient (i, j), as a function of the input row and column parity. */
  readonly sign: (rowOdd: boolean, columnOdd: boolean) => 1 | -1;
}

const TRANSFORMS: Readonly<Record<DihedralOrientation, DihedralTransform>> = {
  orig: { transpose: false, sign: () => 1 },
  rot90: { transpose: true, sign: (_r, c) => (c ? 1 : -1) },
  rot180: { transpose: false, sign: (r, c) => (r !== c ? -1 : 1) },
  rot270: { transpose: true, sign: (r) => (r ? 1 : -1) },
  flipx: { transpose: false, sign: (r) => (r ? 1 : -1) },
  flipy: { transpose: false, sign: (_r, c) => (c ? 1 : -1) },
  flipp: { transpose: true, sign: () => 1 },
  flipm: { transpose: true, sign: (r, c) => (r !== c ? -1 : 1) },
};

/** Writes the coefficients of `orientation` of the image whose coefficients are `original`. */
export function orientCoefficients(original: Float32Array, orientation: DihedralOrientation, out: Float32Array): void {
  const { transpose, sign } = TRANSFORMS[orientation];
  for (let i = 0; i < DCT_SIZE; i++) {
    for (let j = 0; j < DCT_SIZE; j++) {
      const target = transpose ? j * DCT_SIZE + i : i * DCT_SIZE + j;
      out[target] = sign((i & 1) === 1, (j & 1) === 1) * original[i * DCT_SIZE + j]!;
    }
  }
}
