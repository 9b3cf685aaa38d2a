/**
 * PDQ, Meta's 256-bit perceptual image hash, from its published algorithm: luminance →
 * two-pass Jarosz box-filter downsampling to 64×64 → quality score from the grid's gradients
 * → 16×16 low-frequency DCT → threshold at the median. Optionally the eight dihedral hashes
 * (rotations and mirrors) from the same DCT. Bit-exact with the C++ reference on the same
 * pixels: every step keeps the reference's single-precision arithmetic and order.
 *
 * The downsampling — nearly all the work — runs on one of two engines with identical results:
 * `wasm` (default; the inner loops as a WebAssembly kernel computing in native single
 * precision, about three times faster) or `typescript` (the same loops in TypeScript, single
 * precision emulated with `Math.fround`; the readable form, and the tests' second opinion).
 *
 * A `PdqHasher` owns its fixed-size scratch buffers, so hashing many images allocates only the
 * per-image row buffers of the downsampler. It is not re-entrant; use one per thread.
 */
import type { RawImage } from '../raw-image.js';
import { DCT_SIZE, dct64To16 } from './dct.js';
import { DIHEDRAL_ORIENTATIONS, type DihedralOrientation, orientCoefficients } from './dihedral.js';
import { downsampleLumaTo64, PDQ_GRID } from './jarosz-downsample.js';
import { WasmDownsampler } from './wasm/wasm-downsampler.js';
import { createMedianBitsScratch, hashFromCoefficients } from './median-bits.js';
import { pdqQuality } from './quality.js';

export interface PdqResult {
  /** 64 lower-case hex digits. */
  readonly hash: string;
  /** 0–100; the bank rejects below 50. */
  readonly quality: number;
}

export type PdqDihedralHashes = Readonly<Record<DihedralOrientation, string>>;

export interface PdqDihedralResult extends PdqResult {
  readonly dihedral: PdqDihedralHashes;
}

export type PdqEngine = 'wasm' | 'typescript';

export interface PdqHasherOptions {
  /** Which implementation of the downsampling runs; both give identical bits. Default `wasm`. */
  readonly engine?: PdqEngine;
}

export class PdqHasher {
  private readonly downsample: (image: RawImage, grid: Float32Array) => void;
  private readonly grid = new Float32Array(PDQ_GRID * PDQ_GRID);
  private readonly partial = new Float32Array(DCT_SIZE * PDQ_GRID);
  private readonly coefficients = new Float32Array(DCT_SIZE * DCT_SIZE);
  private readonly oriented = new Float32Array(DCT_SIZE * DCT_SIZE);
  private readonly bits = createMedianBitsScratch();

  constructor(options: PdqHasherOptions = {}) {
    if (options.engine === 'typescript') {
      this.downsample = downsampleLumaTo64;
    } else {
      const engine = new WasmDownsampler();
      this.downsample = (image, grid) => engine.downsample(image, grid);
    }
  }

  hash(image: RawImage): PdqResult {
    const quality = this.transform(image);
    return { hash: hashFromCoefficients(this.coefficients, this.bits), quality };
  }

  hashWithDihedral(image: RawImage): PdqDihedralResult {
    const quality = this.transform(image);
    const dihedral = {} as Record<DihedralOrientation, string>;
    for (const orientation of DIHEDRAL_ORIENTATIONS) {
      orientCoefficients(this.coefficients, orientation, this.oriented);
      dihedral[orientation] = hashFromCoefficients(this.oriented, this.bits);
    }
    return { hash: dihedral.orig, quality, dihedral };
  }

  /** Downsamples and transforms `image` into `coefficients`; answers the quality. */
  private transform(image: RawImage): number {
    this.downsample(image, this.grid);
    const quality = pdqQuality(this.grid);
    dct64To16(this.grid, this.partial, this.coefficients);
    return quality;
  }
}
