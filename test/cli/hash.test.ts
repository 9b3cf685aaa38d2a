// End to end: `signalbank hash` as a user runs it (a child process through tsx): NDJSON in
// input order over the worker pool, failed files reported in place, directory expansion
// rules, exit codes, and no progress bar when stderr is not a terminal.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashImage } from '../../src/library.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PDQ = join(ROOT, 'fixtures/pdq');
let dir: string;

function runHash(args: string[]): { status: number | null; lines: Record<string, unknown>[]; stderr: string } {
  const child = spawnSync(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'src/cli/main.ts'), 'hash', ...args], { cwd: dir, encoding: 'utf8' });
  const lines = child.stdout.trim() === '' ? [] : child.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  return { status: child.status, lines, stderr: child.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'signalbank-cli-hash-'));
  mkdirSync(join(dir, 'photos/sub'), { recursive: true });
  copyFileSync(join(PDQ, 'bridge-mods/aaa-orig.jpg'), join(dir, 'photos/01-large.jpg'));
  const jpeg = readFileSync(join(PDQ, 'bridge-mods/square-256x256.jpg'));
  writeFileSync(join(dir, 'photos/02-truncated.JPG'), jpeg.subarray(0, jpeg.length >> 1));
  copyFileSync(join(PDQ, 'bridge-mods/square-128x128.jpg'), join(dir, 'photos/03-small.jpeg'));
  writeFileSync(join(dir, 'photos/04-notes.txt'), 'not an image');
  writeFileSync(join(dir, 'photos/.hidden.jpg'), 'hidden');
  copyFileSync(join(PDQ, 'python-threatexchange/LA.png'), join(dir, 'photos/sub/05-deep.png'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('signalbank hash', () => {
  it('prints one NDJSON line per file in input order, reports failures in place and exits 1', () => {
    const { status, lines, stderr } = runHash(['photos', 'missing.jpg', 'photos/04-notes.txt', '--recursive', '--workers', '2']);
    expect(lines.map((line) => line['file'])).toEqual([
      'photos/01-large.jpg',
      'photos/02-truncated.JPG',
      'photos/03-small.jpeg',
      'photos/sub/05-deep.png',
      'missing.jpg',
      'photos/04-notes.txt',
    ]);
    expect(lines.map((line) => (line['error'] as { code: string } | undefined)?.code ?? 'ok')).toEqual([
      'ok',
      'ERR_UNSUPPORTED_IMAGE',
      'ok',
      'ok',
      'ERR_FILE_UNREADABLE',
      'ERR_UNSUPPORTED_IMAGE',
    ]);
    expect(Object.keys(lines[0]!)).toEqual(['file', 'pdq', 'pdqQuality', 'blockhash', 'md5', 'sha256']);
    expect(status).toBe(1);
    expect(stderr).not.toMatch(/hashing \[/);
  });

  it('agrees with the library and exits 0 when every file hashes', async () => {
    const { status, lines } = runHash(['photos/03-small.jpeg', 'photos/01-large.jpg', '--dihedral']);
    expect(status).toBe(0);
    const expected = await hashImage(join(dir, 'photos/03-small.jpeg'), { dihedral: true });
    expect(lines[0]).toEqual({
      file: 'photos/03-small.jpeg',
      pdq: expected.pdq!.hash,
      pdqQuality: expected.pdq!.quality,
      pdqDihedral: expected.pdqDihedral,
      blockhash: expected.blockhash,
      md5: expected.md5,
      sha256: expected.sha256,
    });
    expect(lines[1]!['file']).toBe('photos/01-large.jpg');
  });

  it('lists only the top level of a directory without --recursive, and only the requested types', () => {
    const { status, lines } = runHash(['photos', '--types', 'md5,pdq']);
    expect(lines.map((line) => line['file'])).toEqual(['photos/01-large.jpg', 'photos/02-truncated.JPG', 'photos/03-small.jpeg']);
    expect(Object.keys(lines[0]!)).toEqual(['file', 'pdq', 'pdqQuality', 'md5']);
    expect(status).toBe(1);
  });

  it('applies --max-pixels per file', () => {
    const { lines } = runHash(['photos/01-large.jpg', 'photos/03-small.jpeg', '--max-pixels', '100000']);
    expect((lines[0]!['error'] as { code: string }).code).toBe('ERR_IMAGE_TOO_LARGE');
    expect(lines[1]!['pdq']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('fails the whole command on a bad option, with its code', () => {
    const { status, lines, stderr } = runHash(['photos', '--types', 'pdq,phash']);
    expect(status).toBe(1);
    expect(lines).toEqual([]);
    expect(stderr).toMatch(/ERR_UNKNOWN_TYPE/);
  });
});

describe('signalbank hash on a directory without images', () => {
  it('says so on stderr and exits 0', () => {
    mkdirSync(join(dir, 'empty'), { recursive: true });
    const { status, lines, stderr } = runHash(['empty']);
    expect(status).toBe(0);
    expect(lines).toEqual([]);
    expect(stderr).toMatch(/No image files found in empty/);
  });
});
