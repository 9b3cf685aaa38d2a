/**
 * The decoded pixel buffer every hash of `src/hashing/` works on: 8-bit samples, row-major,
 * interleaved, 3 (RGB) or 4 (RGBA) channels, no padding between rows.
 */

export interface RawImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly channels: 3 | 4;
}
