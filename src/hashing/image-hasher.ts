/**
 * Computes the requested hashes of one image (SPEC §7's result shape): MD5/SHA-256 of the
 * bytes, then — only when a perceptual hash is asked for — one decode shared by PDQ (with its
 * dihedral hashes on request) and blockhash. An `ImageHasher` keeps one PDQ scratch set for
 * all the images it hashes; the library's `hashImage` and each pool worker own one.
 */
import { stat } from 'node:fs/promises';
import { ImageError } from '../errors.js';
import { blockhash } from './blockhash.js';
import { decodeImage } from './decode-image.js';
import { digestFile, type DigestName } from './file-digests.js';
import type { ResolvedHashOptions } from './hash-options.js';
import { type PdqDihedralHashes, PdqHasher, type PdqResult } from './pdq/pdq-hasher.js';

export interface ImageHashes {
  pdq?: PdqResult;
  pdqDihedral?: PdqDihedralHashes;
  blockhash?: string;
  md5?: string;
  sha256?: string;
}

export class ImageHasher {
  private readonly pdq = new PdqHasher();

  async hash(input: string | Buffer, options: ResolvedHashOptions): Promise<ImageHashes> {
    if (typeof input === 'string') await checkReadableFile(input);
    const { types } = options;
    const result: ImageHashes = {};
    const digests = types.filter((type): type is DigestName => type === 'md5' || type === 'sha256');
    Object.assign(result, await digestFile(input, digests));
    const wantsPdq = types.includes('pdq');
    const wantsBlockhash = types.includes('blockhash');
    if (!wantsPdq && !wantsBlockhash) return result;

    const image = await decodeImage(input, { maxPixels: options.maxPixels });
    if (wantsPdq) {
      if (options.dihedral) {
        const { hash, quality, dihedral } = this.pdq.hashWithDihedral(image);
        result.pdq = { hash, quality };
        result.pdqDihedral = dihedral;
      } else {
        result.pdq = this.pdq.hash(image);
      }
    }
    if (wantsBlockhash) result.blockhash = blockhash(image);
    return result;
  }
}

async function checkReadableFile(path: string): Promise<void> {
  let isFile: boolean;
  try {
    isFile = (await stat(path)).isFile();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new ImageError('ERR_FILE_UNREADABLE', `Cannot read ${path}: ${message}`, { cause: error });
  }
  if (!isFile) throw new ImageError('ERR_FILE_UNREADABLE', `Expected a regular file for ${path} but it is not one`);
}
