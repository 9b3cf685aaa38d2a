// The library entry point hashImage (SPEC §7): result shape per requested types, path and
// buffer inputs agree, digests are of the exact file bytes, and bad options fail with codes.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hashImage } from '../../src/library.js';
import { PDQ_DIR, pdqVectors } from './reference-vectors.js';

const FILE = `${PDQ_DIR}bridge-mods/square-512x512.jpg`;
const dir = mkdtempSync(join(tmpdir(), 'signalbank-hash-image-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as { code: string }).code;
  }
  return 'resolved';
}

describe('hashImage', () => {
  it('computes all four hashes by default, PDQ equal to the reference', async () => {
    const bytes = readFileSync(FILE);
    const result = await hashImage(FILE);
    const vector = pdqVectors().find((v) => v.file === 'bridge-mods/square-512x512.jpg')!;
    expect(result.pdq).toEqual({ hash: vector.noresizeHash, quality: vector.noresizeQuality });
    expect(result.blockhash).toMatch(/^[0-9a-f]{64}$/);
    expect(result.md5).toBe(createHash('md5').update(bytes).digest('hex'));
    expect(result.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(result.pdqDihedral).toBeUndefined();
  });

  it('gives the same answer for a path and for its bytes', async () => {
    expect(await hashImage(readFileSync(FILE), { dihedral: true })).toEqual(await hashImage(FILE, { dihedral: true }));
  });

  it('computes only the requested types', async () => {
    const result = await hashImage(FILE, { types: ['sha256', 'pdq'] });
    expect(Object.keys(result).sort()).toEqual(['pdq', 'sha256']);
  });

  it('adds the 8 dihedral PDQ hashes on request, orig being the PDQ hash', async () => {
    const result = await hashImage(FILE, { types: ['pdq'], dihedral: true });
    expect(Object.keys(result.pdqDihedral!)).toEqual(['orig', 'rot90', 'rot180', 'rot270', 'flipx', 'flipy', 'flipp', 'flipm']);
    expect(result.pdqDihedral!.orig).toBe(result.pdq!.hash);
  });

  it('digests any file without decoding it when only md5/sha256 are asked for', async () => {
    const path = join(dir, 'notes.txt');
    writeFileSync(path, 'not an image');
    expect(await hashImage(path, { types: ['md5'] })).toEqual({ md5: createHash('md5').update('not an image').digest('hex') });
    expect(await codeOf(hashImage(path))).toBe('ERR_UNSUPPORTED_IMAGE');
  });

  it('applies the pixel limit', async () => {
    expect(await codeOf(hashImage(FILE, { maxPixels: 512 * 512 - 1 }))).toBe('ERR_IMAGE_TOO_LARGE');
    expect((await hashImage(FILE, { maxPixels: 512 * 512, types: ['pdq'] })).pdq).toBeDefined();
  });

  it('reports a missing file and a directory as ERR_FILE_UNREADABLE', async () => {
    expect(await codeOf(hashImage(join(dir, 'missing.jpg')))).toBe('ERR_FILE_UNREADABLE');
    expect(await codeOf(hashImage(join(dir, 'missing.jpg'), { types: ['md5'] }))).toBe('ERR_FILE_UNREADABLE');
    expect(await codeOf(hashImage(dir))).toBe('ERR_FILE_UNREADABLE');
  });

  it('rejects bad options with coded errors', async () => {
    expect(await codeOf(hashImage(FILE, { types: ['phash' as 'pdq'] }))).toBe('ERR_UNKNOWN_TYPE');
    expect(await codeOf(hashImage(FILE, { types: [] }))).toBe('ERR_VALIDATION');
    expect(await codeOf(hashImage(FILE, { maxPixels: 0 }))).toBe('ERR_VALIDATION');
    expect(await codeOf(hashImage(FILE, { maxPixels: 1.5 }))).toBe('ERR_VALIDATION');
    expect(await codeOf(hashImage(FILE, { types: ['md5'], dihedral: true }))).toBe('ERR_VALIDATION');
    expect(await codeOf(hashImage(42 as unknown as string))).toBe('ERR_VALIDATION');
  });
});
