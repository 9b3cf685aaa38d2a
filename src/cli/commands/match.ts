/**
 * `signalbank match <files|hashes…>`: looks hashes up in the bank (`--type`, default pdq), in
 * batches of up to 1,000, and prints the matches of each (NDJSON with `--json`). An argument that
 * names a file is hashed locally first (only the hash leaves the machine); a file that cannot be
 * hashed is reported on its own line. With `--mirror mirror.db`
 * the lookup runs offline against a local mirror (see `signalbank sync`) through the same
 * matching code as the service, and answers in the same shape. Exits 1 when a query was refused.
 */
import type { Command } from 'commander';
import { statSync } from 'node:fs';
import { hashImage } from '../../hashing/hash-image.js';
import { getSignalType } from '../../signals/registry.js';
import { MirrorDb } from '../../client/mirror/mirror-db.js';
import { MirrorMatcher } from '../../client/mirror/mirror-matcher.js';
import type { MatchAnswer, MatchRequestQuery } from '../../client/signalbank-client.js';
import { InputError, isSignalbankError, type SignalbankError } from '../../errors.js';
import { connect, withClientOptions, type ClientFlags } from '../client-options.js';
import { createOutput, EXIT_FAILED } from '../output.js';

const BATCH_SIZE = 1_000;

interface Flags extends ClientFlags {
  type: string;
  maxDistance?: string;
  limit?: string;
  includeDisputed?: boolean;
  mirror?: string;
}

interface LookupOptions {
  readonly limit?: number;
  readonly includeDisputed?: boolean;
}

/** Answers a batch of queries: `results[i]` for `queries[i]`, as `POST /v1/match` does. */
type Lookup = (queries: readonly MatchRequestQuery[], options: LookupOptions) => Promise<MatchAnswer['results']>;

const integer = (value: string | undefined, name: string): number | undefined => {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new InputError('ERR_VALIDATION', `Expected a whole number for ${name} but received ${JSON.stringify(value)}`);
  return Number(value);
};

const isFile = (path: string): boolean => {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

/** One argument as a query: a file is hashed locally with the type's hasher, anything else is the hash itself. */
async function argumentQuery(arg: string, type: string): Promise<{ hash: string; file?: string } | { file: string; error: SignalbankError }> {
  if (!isFile(arg)) return { hash: arg };
  const hashType = getSignalType(type).name;
  try {
    const hashes = await hashImage(arg, { types: [hashType] });
    const value = hashes[hashType];
    return { hash: typeof value === 'string' ? value : value!.hash, file: arg };
  } catch (error) {
    if (isSignalbankError(error)) return { file: arg, error };
    throw error;
  }
}

/** Offline lookup in a mirror file; answers in the service's shape. */
async function mirrorLookup(path: string): Promise<{ lookup: Lookup; close: () => Promise<void> }> {
  const mirror = MirrorDb.open(path, { create: false });
  let matcher: MirrorMatcher;
  try {
    matcher = await MirrorMatcher.open(mirror);
  } catch (error) {
    mirror.close();
    throw error;
  }
  const lookup: Lookup = (queries, options) => matcher.answer(queries, options);
  return {
    lookup,
    close: async () => {
      await matcher.close();
      mirror.close();
    },
  };
}

export function register(program: Command): void {
  withClientOptions(program.command('match <files-or-hashes...>').description('look files (hashed locally) or hashes up in the bank, or offline in a mirror'))
    .option('--type <type>', 'signal type of the hashes: pdq, blockhash, md5, sha256', 'pdq')
    .option('--max-distance <n>', 'Hamming radius (default per type: pdq 31, blockhash 10)')
    .option('--limit <n>', 'matches per hash (1–100, default 10)')
    .option('--include-disputed', 'also show disputed signals')
    .option('--mirror <file>', 'match offline against this mirror (made by signalbank sync) instead of the service')
    .action(async (args: string[], flags: Flags) => {
      const out = createOutput(flags.json ?? false);
      const maxDistance = integer(flags.maxDistance, '--max-distance');
      const limit = integer(flags.limit, '--limit');
      let lookup: Lookup;
      let close = async (): Promise<void> => undefined;
      if (flags.mirror !== undefined) {
        ({ lookup, close } = await mirrorLookup(flags.mirror));
      } else {
        const client = await connect(flags);
        lookup = async (queries, options) => (await client.match(queries, options)).results;
      }
      let failed = false;
      try {
        for (let start = 0; start < args.length; start += BATCH_SIZE) {
          const slice = await Promise.all(args.slice(start, start + BATCH_SIZE).map((arg) => argumentQuery(arg, flags.type)));
          const hashed = slice.flatMap((item) => ('error' in item ? [] : [item]));
          const queries = hashed.map(({ hash }) => ({ type: flags.type, hash, ...(maxDistance !== undefined && { maxDistance }) }));
          const results = queries.length > 0 ? await lookup(queries, { ...(limit !== undefined && { limit }), ...(flags.includeDisputed && { includeDisputed: true }) }) : [];
          let next = 0;
          for (const item of slice) {
            if ('error' in item) {
              failed = true;
              out.record({ file: item.file, error: item.error.toItemError() }, `${item.file}: cannot hash: ${item.error.code} ${item.error.message}`);
              continue;
            }
            const result = results[next++]!;
            const query = { type: flags.type, hash: item.hash, ...(item.file !== undefined && { file: item.file }) };
            const name = item.file ?? item.hash;
            if ('error' in result) {
              failed = true;
              out.record({ query, error: result.error }, `${name}: refused: ${result.error.code} ${result.error.message}`);
              continue;
            }
            const text = [
              `${name}: ${result.matches.length === 0 ? 'no match' : `${result.matches.length} match${result.matches.length > 1 ? 'es' : ''}`}`,
              ...result.matches.map((m) => `  ${m.id}  distance ${m.distance}  ${m.status}  labels=${m.labels.join(',')}  submitters=${m.submitters}`),
            ].join('\n');
            out.record({ query, matches: result.matches }, text);
          }
        }
      } finally {
        await close();
      }
      if (failed) process.exitCode = EXIT_FAILED;
    });
}
