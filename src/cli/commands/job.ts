/**
 * `signalbank job <dirs|files…> --out results.ndjson` (SPEC §6): builds the queries locally —
 * image files and directories are hashed here with the hash pool (only hashes leave the
 * machine); a file whose content is NDJSON is read as hash lines, either `signalbank hash`
 * output (the `--type` field of each record) or `{"type","hash",…}` queries — uploads them as
 * one job (streamed), follows its progress, and downloads the result lines to `--out` (stdout
 * without it). `--no-wait` prints the job and returns at once. Subcommands: `job status <id>`,
 * `job results <id> --out`, `job cancel <id>`, `job list`. Exit code 0 only when every file was
 * hashed, every line was accepted and the job finished `done`. Progress bars (hashing, then
 * matching) go to stderr when it is a terminal, or with `--progress`.
 */
import type { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { relative } from 'node:path';
import { createInterface } from 'node:readline';
import type { JobStatus, SignalbankClient } from '../../client/signalbank-client.js';
import type { JobQueryInput } from '../../client/spooled-body.js';
import { InputError } from '../../errors.js';
import { HashPool } from '../../hashing/hash-pool.js';
import { parseHashTypeList, resolveHashOptions } from '../../hashing/hash-options.js';
import { listInputFiles, type InputFile } from '../../hashing/input-files.js';
import { connect, withClientOptions, type ClientFlags } from '../client-options.js';
import { createOutput, EXIT_FAILED, EXIT_OK, type Output } from '../output.js';
import { progressBar, PROGRESS_OPTION } from '../progress-bar.js';
import { hashFilesInOrder } from './hash.js';

interface JobFlags extends ClientFlags {
  out?: string;
  type: string;
  maxDistance?: string;
  limit?: string;
  recursive?: boolean;
  workers?: string;
  wait: boolean;
  progress?: boolean;
}

const POLL_MS = 1000;
const MAX_REF = 128;

const integer = (value: string | undefined, name: string): number | undefined => {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new InputError('ERR_VALIDATION', `Expected a whole number for ${name} but received ${JSON.stringify(value)}`);
  return Number(value);
};

/** A file's name as its lines' `ref`: relative to the working directory, its last 128 characters when longer. */
const refOf = (path: string): string => {
  const name = relative(process.cwd(), path) || path;
  return name.length <= MAX_REF ? name : name.slice(-MAX_REF);
};

/** True when the file starts (after blanks) with `{`: an NDJSON hash file rather than an image. */
async function isNdjsonFile(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(64), 0, 64, 0);
    const text = buffer.subarray(0, bytesRead).toString('latin1').trimStart();
    return text.startsWith('{');
  } finally {
    await handle.close();
  }
}

/** What the arguments hold: NDJSON hash files, and image files (from files and directories). */
async function sortInputs(paths: readonly string[], recursive: boolean): Promise<{ ndjson: string[]; images: InputFile[] }> {
  const ndjson: string[] = [];
  const imageArgs: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (info?.isFile() && (await isNdjsonFile(path))) ndjson.push(path);
    else imageArgs.push(path);
  }
  const images = imageArgs.length > 0 ? await listInputFiles(imageArgs, { recursive }) : [];
  return { ndjson, images };
}

interface Counts {
  queries: number;
  skipped: number;
}

/** Queries from NDJSON hash files: `{"type","hash",…}` lines as they are, `hash` records by `type`. */
async function* queriesFromNdjson(path: string, type: string, maxDistance: number | undefined, counts: Counts, out: Output): AsyncGenerator<JobQueryInput | string> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  let number = 0;
  for await (const line of lines) {
    number++;
    if (line.trim() === '') continue;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      // Sent as it is: the service answers it with an error line in its place.
      counts.queries++;
      yield line;
      continue;
    }
    if (typeof record['type'] === 'string' && typeof record['hash'] === 'string') {
      counts.queries++;
      yield { ...(record as unknown as JobQueryInput), ...(maxDistance !== undefined && record['maxDistance'] === undefined && { maxDistance }) };
      continue;
    }
    const hash = record[type];
    if (typeof hash === 'string') {
      counts.queries++;
      yield { type, hash, ...(maxDistance !== undefined && { maxDistance }), ...(typeof record['file'] === 'string' && { ref: refOf(record['file']) }) };
      continue;
    }
    counts.skipped++;
    const reason = record['error'] !== undefined ? `hashing failed: ${JSON.stringify(record['error'])}` : `no ${type} hash`;
    out.note(`${path}:${number}: skipped (${reason})`);
  }
}

async function* queriesFromImages(
  files: readonly InputFile[],
  type: string,
  maxDistance: number | undefined,
  workers: number | undefined,
  counts: Counts,
  out: Output,
  progress: SingleBar | undefined,
): AsyncGenerator<JobQueryInput> {
  if (files.length === 0) return;
  const options = resolveHashOptions({ types: parseHashTypeList(type), dihedral: false });
  const pool = new HashPool({ size: Math.min(workers ?? availableParallelism(), files.length) });
  progress?.start(files.length, 0, { phase: 'hashing' });
  try {
    for await (const record of hashFilesInOrder(files, options, pool, () => progress?.increment())) {
      const hash = 'error' in record ? undefined : (record as Record<string, unknown>)[type];
      if (typeof hash !== 'string') {
        counts.skipped++;
        out.note(`${record.file}: not hashed: ${'error' in record ? `${record.error.code} ${record.error.message}` : `no ${type} hash`}`);
        continue;
      }
      counts.queries++;
      yield { type, hash, ...(maxDistance !== undefined && { maxDistance }), ref: refOf(record.file) };
    }
  } finally {
    progress?.stop();
    await pool.close();
  }
}

/** Polls the job until it ends, showing done/total on a progress bar. */
async function follow(client: SignalbankClient, created: JobStatus, forceProgress: boolean): Promise<JobStatus> {
  const bar = progressBar('matching [{bar}] {value}/{total} lines | {rate} lines/s | {eta_formatted} left', forceProgress);
  bar?.start(created.total, created.done, { rate: '-' });
  let job = created;
  try {
    while (job.status === 'queued' || job.status === 'running') {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      job = await client.jobStatus(job.id);
      bar?.update(job.done, { rate: job.rate ?? '-' });
    }
  } finally {
    bar?.stop();
  }
  return job;
}

interface Downloaded {
  lines: number;
  withMatches: number;
  errors: number;
}

/** Streams the job's result lines to `out` (stdout without it), counting lines with matches and error lines. */
async function download(client: SignalbankClient, id: string, out: string | undefined): Promise<Downloaded> {
  const sink = out === undefined ? process.stdout : createWriteStream(out);
  const counts: Downloaded = { lines: 0, withMatches: 0, errors: 0 };
  const decoder = new TextDecoder();
  let tail = '';
  for await (const chunk of await client.jobResults(id)) {
    const text = tail + decoder.decode(chunk, { stream: true });
    const parts = text.split('\n');
    tail = parts.pop()!;
    for (const line of parts) {
      counts.lines++;
      if (line.includes('"error":{')) counts.errors++;
      else if (!line.endsWith('"matches":[]}')) counts.withMatches++;
    }
    if (!sink.write(chunk)) await once(sink, 'drain');
  }
  if (sink !== process.stdout) {
    sink.end();
    await once(sink, 'finish');
  }
  return counts;
}

function describeJob(job: JobStatus): string {
  const parts = [`job ${job.id}: ${job.status}, ${job.done}/${job.total} lines`];
  if (job.errorLines > 0) parts.push(`${job.errorLines} refused`);
  if (job.rate !== null) parts.push(`${job.rate} lines/s`);
  if (job.eta !== null && job.status === 'running') parts.push(`about ${job.eta} s left`);
  if (job.error) parts.push(`error ${job.error.code}: ${job.error.message}`);
  return parts.join(', ');
}

export async function runJobCommand(paths: readonly string[], flags: JobFlags): Promise<number> {
  const out = createOutput(flags.json ?? false);
  const maxDistance = integer(flags.maxDistance, '--max-distance');
  const limit = integer(flags.limit, '--limit');
  const workers = integer(flags.workers, '--workers');
  parseHashTypeList(flags.type);
  const client = await connect(flags);
  const inputs = await sortInputs(paths, flags.recursive === true);
  const counts: Counts = { queries: 0, skipped: 0 };
  const hashingBar = progressBar('hashing [{bar}] {value}/{total} files | {eta_formatted} left', flags.progress === true);
  async function* queries(): AsyncGenerator<JobQueryInput | string> {
    for (const path of inputs.ndjson) yield* queriesFromNdjson(path, flags.type, maxDistance, counts, out);
    yield* queriesFromImages(inputs.images, flags.type, maxDistance, workers, counts, out, hashingBar);
  }
  // Spooled while hashing, then streamed to the service.
  const created = await client.createJob(queries(), { ...(limit !== undefined && { limit }) });
  if (!flags.wait) {
    out.record({ ...created, skipped: counts.skipped }, `${describeJob(created)}\nfollow it with: signalbank job status ${created.id}`);
    return counts.skipped > 0 || created.errorLines > 0 ? EXIT_FAILED : EXIT_OK;
  }
  out.note(`job ${created.id}: ${created.total} lines uploaded${created.errorLines > 0 ? `, ${created.errorLines} refused` : ''}`);
  const job = await follow(client, created, flags.progress === true);
  if (job.status !== 'done') {
    out.record({ ...job, skipped: counts.skipped }, describeJob(job));
    return EXIT_FAILED;
  }
  const results = await download(client, job.id, flags.out);
  const summary = { ...job, skipped: counts.skipped, results: { ...results, ...(flags.out !== undefined && { out: flags.out }) } };
  const text = `${describeJob(job)}; ${results.withMatches} with matches${flags.out !== undefined ? `; results in ${flags.out}` : ''}${counts.skipped > 0 ? `; ${counts.skipped} inputs skipped` : ''}`;
  if (flags.out !== undefined || flags.json) out.record(summary, text);
  else out.note(text);
  return counts.skipped > 0 || results.errors > 0 ? EXIT_FAILED : EXIT_OK;
}

export function register(program: Command): void {
  const job = withClientOptions(
    program
      .command('job')
      .description('match many hashes as one batch job: hash images or read hash files, upload, follow, download the results')
      .argument('<paths...>', 'image files, directories of images, or NDJSON hash files (from `signalbank hash`, or {"type","hash"} lines)'),
  )
    .option('--out <file>', 'write the result lines (NDJSON, input order) here; default stdout')
    .option('--type <type>', 'signal type to match: pdq, blockhash, md5, sha256', 'pdq')
    .option('--max-distance <n>', 'Hamming radius (default per type: pdq 31, blockhash 10)')
    .option('--limit <n>', 'matches per query (1–100, default 10)')
    .option('-r, --recursive', 'descend into subdirectories')
    .option('--workers <n>', 'hashing threads (default: one per core)')
    .option('--no-wait', 'print the job and return once it is uploaded')
    .option(...PROGRESS_OPTION)
    .action(async (paths: string[], flags: JobFlags) => {
      process.exitCode = await runJobCommand(paths, flags);
    });

  // The client options and --json are the job command's; a subcommand reads them with its own.
  const flagsOf = (command: Command): ClientFlags & { out?: string } => command.optsWithGlobals();
  job.configureHelp({ showGlobalOptions: true });

  job
    .command('status')
    .description("a job's status and progress")
    .argument('<id>', 'job id')
    .action(async (id: string, _options: unknown, command: Command) => {
      const flags = flagsOf(command);
      const status = await (await connect(flags)).jobStatus(id);
      createOutput(flags.json ?? false).record(status, describeJob(status));
    });

  job
    .command('results')
    .description("download a finished job's result lines (to --out, or stdout)")
    .argument('<id>', 'job id')
    .action(async (id: string, _options: unknown, command: Command) => {
      const flags = flagsOf(command);
      const results = await download(await connect(flags), id, flags.out);
      if (flags.out !== undefined) createOutput(flags.json ?? false).record({ id, ...results, out: flags.out }, `${results.lines} result lines (${results.withMatches} with matches) in ${flags.out}`);
      if (results.errors > 0) process.exitCode = EXIT_FAILED;
    });

  job
    .command('cancel')
    .description('cancel a queued or running job')
    .argument('<id>', 'job id')
    .action(async (id: string, _options: unknown, command: Command) => {
      const flags = flagsOf(command);
      const status = await (await connect(flags)).cancelJob(id);
      createOutput(flags.json ?? false).record(status, describeJob(status));
    });

  job
    .command('list')
    .description('your jobs, newest first')
    .action(async (_options: unknown, command: Command) => {
      const flags = flagsOf(command);
      const { jobs } = await (await connect(flags)).listJobs();
      const out = createOutput(flags.json ?? false);
      if (jobs.length === 0 && !out.json) out.note('no jobs');
      for (const entry of jobs) out.record(entry, describeJob(entry));
    });
}
