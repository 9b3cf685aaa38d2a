/**
 * `signalbank hash <files|dirs…>` (SPEC §6): hashes images locally over a worker pool and
 * prints one NDJSON line per file, in input order —
 * `{"file","pdq","pdqQuality","pdqDihedral"?,"blockhash","md5","sha256"}` with the requested
 * types, or `{"file","error":{"code","message"}}` for a file that failed, after which the run
 * goes on. Exit code 1 when any file failed. A progress bar goes to stderr when it is a terminal.
 */
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { InputError, isSignalbankError } from '../../errors.js';
import { HashPool } from '../../hashing/hash-pool.js';
import { parseHashTypeList, resolveHashOptions, type ResolvedHashOptions } from '../../hashing/hash-options.js';
import type { ImageHashes } from '../../hashing/image-hasher.js';
import { type InputFile, listInputFiles } from '../../hashing/input-files.js';
import { createOutput, EXIT_FAILED, EXIT_OK, type Output } from '../output.js';

interface HashCommandOptions {
  readonly types: string;
  readonly recursive?: boolean;
  readonly dihedral?: boolean;
  readonly maxPixels?: string;
  readonly workers?: string;
  readonly json?: boolean;
}

export type HashRecord =
  | { file: string; error: { code: string; message: string } }
  | { file: string; pdq?: string; pdqQuality?: number; pdqDihedral?: Record<string, string>; blockhash?: string; md5?: string; sha256?: string };

export function register(program: Command): void {
  program
    .command('hash')
    .description('Hash images locally (PDQ, blockhash, MD5, SHA-256); one NDJSON line per file, in input order')
    .argument('<paths...>', 'image files, or directories of images (by extension)')
    .option('--types <list>', 'comma-separated hash types', 'pdq,blockhash,md5,sha256')
    .option('-r, --recursive', 'descend into subdirectories')
    .option('--dihedral', 'add the 8 PDQ dihedral hashes (rotations and mirrors) as pdqDihedral')
    .option('--max-pixels <n>', 'largest width×height decoded (default 100000000)')
    .option('--workers <n>', 'worker threads (default: one per core)')
    .option('--json', 'JSON output (hash results are always NDJSON)')
    .action(async (paths: string[], options: HashCommandOptions) => {
      process.exitCode = await runHashCommand(paths, options);
    });
}

function parsePositiveInteger(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < 1) {
    throw new InputError('ERR_VALIDATION', `Expected a positive integer for ${name} but received ${JSON.stringify(value)}`);
  }
  return number;
}

export async function runHashCommand(paths: readonly string[], options: HashCommandOptions): Promise<number> {
  const maxPixels = parsePositiveInteger(options.maxPixels, '--max-pixels');
  const workers = parsePositiveInteger(options.workers, '--workers');
  const hashOptions = resolveHashOptions({
    types: parseHashTypeList(options.types),
    dihedral: options.dihedral === true,
    ...(maxPixels === undefined ? {} : { maxPixels }),
  });
  const files = await listInputFiles(paths, { recursive: options.recursive === true });
  const output = createOutput(true);
  if (files.length === 0) {
    output.note(`No image files found in ${paths.join(', ')} (directories contribute files by image extension${options.recursive === true ? '' : '; add --recursive for subdirectories'})`);
    return EXIT_OK;
  }
  const pool = new HashPool({ size: Math.min(workers ?? availableParallelism(), files.length) });
  const progress = process.stderr.isTTY ? new SingleBar({ stream: process.stderr, clearOnComplete: true, hideCursor: true, format: 'hashing [{bar}] {value}/{total} files | {eta_formatted} left' }) : undefined;
  progress?.start(files.length, 0);
  try {
    const failed = await hashInOrder(files, hashOptions, pool, output, () => progress?.increment());
    return failed > 0 ? EXIT_FAILED : EXIT_OK;
  } finally {
    progress?.stop();
    await pool.close();
  }
}

/**
 * Hashes `files` on `pool`, at most a few per worker ahead of the first unprinted one so memory
 * stays bounded, and prints each record as soon as every earlier one is printed. Answers the
 * number of files that failed.
 */
async function hashInOrder(files: readonly InputFile[], options: ResolvedHashOptions, pool: HashPool, output: Output, onDone: () => void): Promise<number> {
  const window = pool.size * 4;
  const finished = new Map<number, HashRecord>();
  let nextToPrint = 0;
  let nextToStart = 0;
  let failed = 0;
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (nextToPrint < files.length && finished.has(nextToPrint)) {
        const record = finished.get(nextToPrint)!;
        finished.delete(nextToPrint++);
        if ('error' in record) failed++;
        output.record(record);
      }
      if (nextToPrint === files.length) {
        resolve();
        return;
      }
      while (nextToStart < files.length && nextToStart - nextToPrint < window) {
        const index = nextToStart++;
        void hashOne(files[index]!, options, pool).then((record) => {
          finished.set(index, record);
          onDone();
          pump();
        });
      }
    };
    pump();
  });
  return failed;
}

async function hashOne(file: InputFile, options: ResolvedHashOptions, pool: HashPool): Promise<HashRecord> {
  try {
    if (file.error !== undefined) throw file.error;
    return toRecord(file.path, await pool.hash(file.path, options));
  } catch (error) {
    const { code, message } = isSignalbankError(error)
      ? error.toItemError()
      : { code: 'ERR_INTERNAL', message: error instanceof Error ? error.message : String(error) };
    return { file: file.path, error: { code, message } };
  }
}

export function toRecord(file: string, hashes: ImageHashes): HashRecord {
  return {
    file,
    ...(hashes.pdq === undefined ? {} : { pdq: hashes.pdq.hash, pdqQuality: hashes.pdq.quality }),
    ...(hashes.pdqDihedral === undefined ? {} : { pdqDihedral: { ...hashes.pdqDihedral } }),
    ...(hashes.blockhash === undefined ? {} : { blockhash: hashes.blockhash }),
    ...(hashes.md5 === undefined ? {} : { md5: hashes.md5 }),
    ...(hashes.sha256 === undefined ? {} : { sha256: hashes.sha256 }),
  };
}
