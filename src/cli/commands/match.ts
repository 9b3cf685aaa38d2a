/**
 * `signalbank match <hash…>`: looks hashes up in the bank (`--type`, default pdq), in batches of
 * up to 1,000, and prints the matches of each (NDJSON with `--json`). Exits 1 when a query was
 * refused.
 */
import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import { connect, withClientOptions, type ClientFlags } from '../client-options.js';
import { createOutput, EXIT_FAILED } from '../output.js';

const BATCH_SIZE = 1_000;

interface Flags extends ClientFlags {
  type: string;
  maxDistance?: string;
  limit?: string;
  includeDisputed?: boolean;
}

const integer = (value: string | undefined, name: string): number | undefined => {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new InputError('ERR_VALIDATION', `Expected a whole number for ${name} but received ${JSON.stringify(value)}`);
  return Number(value);
};

export function register(program: Command): void {
  withClientOptions(program.command('match <hashes...>').description('look hashes up in the bank'))
    .option('--type <type>', 'signal type of the hashes: pdq, blockhash, md5, sha256', 'pdq')
    .option('--max-distance <n>', 'Hamming radius (default per type: pdq 31, blockhash 10)')
    .option('--limit <n>', 'matches per hash (1–100, default 10)')
    .option('--include-disputed', 'also show disputed signals')
    .action(async (hashes: string[], flags: Flags) => {
      const client = await connect(flags);
      const out = createOutput(flags.json ?? false);
      const maxDistance = integer(flags.maxDistance, '--max-distance');
      const limit = integer(flags.limit, '--limit');
      let failed = false;
      for (let start = 0; start < hashes.length; start += BATCH_SIZE) {
        const slice = hashes.slice(start, start + BATCH_SIZE);
        const queries = slice.map((hash) => ({ type: flags.type, hash, ...(maxDistance !== undefined && { maxDistance }) }));
        const { results } = await client.match(queries, { ...(limit !== undefined && { limit }), ...(flags.includeDisputed && { includeDisputed: true }) });
        results.forEach((result, i) => {
          const query = { type: flags.type, hash: slice[i]! };
          if ('error' in result) {
            failed = true;
            out.record({ query, error: result.error }, `${query.hash}: refused: ${result.error.code} ${result.error.message}`);
            return;
          }
          const text = [
            `${query.hash}: ${result.matches.length === 0 ? 'no match' : `${result.matches.length} match${result.matches.length > 1 ? 'es' : ''}`}`,
            ...result.matches.map((m) => `  ${m.id}  distance ${m.distance}  ${m.status}  labels=${m.labels.join(',')}  submitters=${m.submitters}`),
          ].join('\n');
          out.record({ query, matches: result.matches }, text);
        });
      }
      if (failed) process.exitCode = EXIT_FAILED;
    });
}
