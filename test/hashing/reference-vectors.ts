// The reference vectors under fixtures/ (see fixtures/README.md and the PROVENANCE files), read
// as typed rows for the hashing tests. Paths are absolute so tests run from any directory.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
export const PDQ_DIR = `${FIXTURES}pdq/`;
export const BLOCKHASH_DIR = `${FIXTURES}blockhash/`;

export interface PdqVector {
  readonly file: string;
  readonly pixelsFile: string;
  readonly cppHash: string;
  readonly cppQuality: number;
  readonly noresizeHash: string;
  readonly noresizeQuality: number;
}

function readCsv(path: string): Record<string, string>[] {
  const [header, ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  const names = header!.split(',');
  return lines.map((line) => {
    const cells = line.split(',');
    return Object.fromEntries(names.map((name, i) => [name, cells[i] ?? '']));
  });
}

export function pdqVectors(): PdqVector[] {
  return readCsv(`${PDQ_DIR}expected.csv`).map((row) => ({
    file: row['file']!,
    pixelsFile: row['pixels_file']!,
    cppHash: row['cpp_hash']!,
    cppQuality: Number(row['cpp_quality']),
    noresizeHash: row['cpp_hash_noresize']!,
    noresizeQuality: Number(row['cpp_quality_noresize']),
  }));
}

export function dihedralVectors(): { orientation: string; hash: string; sourcePixelsFile: string }[] {
  return readCsv(`${PDQ_DIR}dihedral.csv`).map((row) => ({
    orientation: row['orientation']!,
    hash: row['hash']!,
    sourcePixelsFile: row['source_pixels_file']!,
  }));
}

/** `exact-hashes.txt` (precise) or `quick-hashes.txt`: `<hash>  <file>` lines. */
export function blockhashVectors(list: 'exact' | 'quick'): { file: string; hash: string }[] {
  return readFileSync(`${BLOCKHASH_DIR}${list}-hashes.txt`, 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [hash, file] = line.split(/\s+/);
      return { hash: hash!, file: file! };
    });
}
