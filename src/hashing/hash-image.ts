/**
 * The library's `hashImage(input, opts?)` (SPEC §7): hashes one image given as a path or as
 * its bytes, in the calling thread. Options are validated first; for many files, the CLI's
 * worker pool (`HashPool`) spreads the same work over all cores.
 */
import { InputError } from '../errors.js';
import { type HashImageOptions, resolveHashOptions } from './hash-options.js';
import { ImageHasher, type ImageHashes } from './image-hasher.js';

const sharedHasher = new ImageHasher();

export async function hashImage(input: string | Buffer, options?: HashImageOptions): Promise<ImageHashes> {
  if (typeof input !== 'string' && !Buffer.isBuffer(input)) {
    throw new InputError('ERR_VALIDATION', `Expected a file path or a Buffer for input but received ${typeof input}`);
  }
  return sharedHasher.hash(input, resolveHashOptions(options));
}
