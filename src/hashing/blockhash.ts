/**
 * blockhash (blockhash.io), 256 bits: the precise method (`bmvbhash`, 16×16 blocks) of the
 * blockhash-core package on the decoded RGBA pixels — the value SPEC §2 names `blockhash`.
 * Fully transparent pixels count as white, as in the reference implementation.
 */
import { bmvbhash } from 'blockhash-core';
import type { RawImage } from './raw-image.js';

export const BLOCKHASH_BITS_PER_SIDE = 16;

export function blockhash(image: RawImage): string {
  if (image.channels !== 4) throw new RangeError(`Expected RGBA pixels for blockhash but received ${image.channels} channels`);
  return bmvbhash({ width: image.width, height: image.height, data: image.data }, BLOCKHASH_BITS_PER_SIDE);
}
