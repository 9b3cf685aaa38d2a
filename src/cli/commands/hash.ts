/**
 * `signalbank hash <files|dirs…>` (SPEC §6): hashes images locally over a worker pool and
 * prints one NDJSON line per file, in input order —
 * `{"file","pdq","pdqQuality","pdqDihedral"?,"blockhash","md5","sha256"}` with the requested
 * types, or `{"file","error":{"code","message"}}` for a file that failed, after which the run
 * goes on. Exit code 1 when any file failed. A progress bar goes to stderr when it is a terminal
 * (or with `--progress`).
 */
import type { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { InputError, isSignalbankError } from '../../errors.js';
import { HashPool } from '../../hashing/hash-pool.js';
import { parseHashTypeList, resolveHashOptions, type ResolvedHashOptions } from '../../hashing/hash-options.js';
import type { ImageHashes } from '../../hashing/image-hasher.js';
import { type InputFile, listInputFiles } from '../../hashing/input-files.js';
import { createOutput, EXIT_FAILED, EXIT_OK, type Output } from '../output.js';
import { progressBar, PROGRESS_OPTION } from '../progress-bar.js';

interface HashCommandOptions {
  readonly types: string;
  readonly recursive?: boolean;
  readonly dihedral?: boolean;
  readonly maxPixels?: string;
  readonly workers?: string;
  readonly json?: boolean;
  readonly progress?: boolean;
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
    .option(...PROGRESS_OPTION)
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
  const progress = progressBar('hashing [{bar}] {value}/{total} files | {eta_formatted} left', options.progress === true);
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
 * Hashes `files` on `pool`, at most a few per worker ahead of the first not yet taken, so memory
 * stays bounded, and yields each file's record in input order as soon as every earlier one was
 * yielded. `onHashed` is called as each file finishes (in any order), for progress.
 */
export async function* hashFilesInOrder(files: readonly InputFile[], options: ResolvedHashOptions, pool: HashPool, onHashed: () => void = () => undefined): AsyncGenerator<HashRecord> {
  const window = pool.size * 4;
  const started = new Map<number, Promise<HashRecord>>();
  let next = 0;
  for (let index = 0; index < files.length; index++) {
    while (next < files.length && next - index < window) {
      const record = hashOne(files[next]!, options, pool).then((hashed) => {
        onHashed();
        return hashed;
      });
      started.set(next++, record);
    }
    const record = await started.get(index)!;
    started.delete(index);
    yield record;
  }
}

/** Prints each file's record in input order; answers the number of files that failed. */
async function hashInOrder(files: readonly InputFile[], options: ResolvedHashOptions, pool: HashPool, output: Output, onDone: () => void): Promise<number> {
  let failed = 0;
  for await (const record of hashFilesInOrder(files, options, pool, onDone)) {
    if ('error' in record) failed++;
    output.record(record);
  }
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
