/**
 * MD5 and SHA-256 of a file's exact bytes, computed in one streamed read so a file of any size
 * is digested in constant memory; a buffer is digested directly. An unreadable path (missing,
 * a directory, no permission) is `ERR_FILE_UNREADABLE`.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { ImageError } from '../errors.js';

export type DigestName = 'md5' | 'sha256';

export type FileDigests = Partial<Record<DigestName, string>>;

export async function digestFile(input: string | Buffer, names: readonly DigestName[]): Promise<FileDigests> {
  const hashes = names.map((name) => [name, createHash(name)] as const);
  if (hashes.length === 0) return {};
  if (typeof input === 'string') {
    await streamInto(input, hashes.map(([, hash]) => hash));
  } else {
    for (const [, hash] of hashes) hash.update(input);
  }
  return Object.fromEntries(hashes.map(([name, hash]) => [name, hash.digest('hex')]));
}

async function streamInto(path: string, hashes: readonly Hash[]): Promise<void> {
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
      for (const hash of hashes) hash.update(chunk as Buffer);
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new ImageError('ERR_FILE_UNREADABLE', `Cannot read ${path}: ${message}`, { cause: error });
  }
}
