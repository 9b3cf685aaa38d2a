/**
 * `signalbank submit [file|-]`: submits hashes in batches of up to 10,000 (SPEC §5). Reads NDJSON
 * from `signalbank hash`, NDJSON items or CSV `type,hash,labels`; labels and media come from the
 * line or the flags (a `--media` other than image or video is a usage error, exit 2). Prints one
 * result per item (NDJSON with `--json`) and a summary on stderr; exits 1 when any item was
 * rejected or any line could not be read.
 */
import { Option, type Command } from 'commander';
import type { SubmitItem } from '../../client/signalbank-client.js';
import { connect, withClientOptions, type ClientFlags } from '../client-options.js';
import { createOutput, EXIT_FAILED } from '../output.js';
import { MEDIA, readInput, type InputRecord, type Media } from '../submission-input.js';

const BATCH_SIZE = 10_000;

interface Flags extends ClientFlags {
  labels?: string;
  media: Media;
}

export function register(program: Command): void {
  withClientOptions(
    program
      .command('submit [input]')
      .description('submit hashes: NDJSON from `signalbank hash`, NDJSON {type, hash, labels?} items, or CSV type,hash,labels[,quality] (default: stdin)'),
  )
    .option('--labels <labels>', 'labels for lines that carry none, comma-separated (e.g. suicide,graphic)')
    .addOption(new Option('--media <media>', 'image or video, for lines that do not say').choices(MEDIA).default('image'))
    .action(async (input: string | undefined, flags: Flags) => {
      const client = await connect(flags);
      const out = createOutput(flags.json ?? false);
      const defaults = { labels: flags.labels ? flags.labels.split(',').map((l) => l.trim()).filter(Boolean) : [], media: flags.media };
      const counts: Record<string, number> = {};
      const tally = (status: string) => (counts[status] = (counts[status] ?? 0) + 1);
      let batch: Extract<InputRecord, { item: SubmitItem }>[] = [];
      const flush = async () => {
        if (batch.length === 0) return;
        const sent = batch;
        batch = [];
        const { results } = await client.submit(sent.map((record) => record.item));
        results.forEach((result, i) => {
          const { line, item } = sent[i]!;
          tally(result.status);
          const record = { line, type: item.type, hash: item.hash, ...result };
          out.record(record, result.error ? `line ${line}: ${item.type} ${item.hash} rejected: ${result.error.code} ${result.error.message}` : `line ${line}: ${item.type} ${item.hash} ${result.status} ${result.id ?? ''}`);
        });
      };
      for await (const record of readInput(input ?? '-', defaults)) {
        if ('error' in record) {
          tally('unreadable');
          out.record({ line: record.line, status: 'unreadable', error: record.error }, `line ${record.line}: unreadable: ${record.error.code} ${record.error.message}`);
          continue;
        }
        batch.push(record);
        if (batch.length === BATCH_SIZE) await flush();
      }
      await flush();
      out.note(`submitted: ${Object.entries(counts).map(([status, n]) => `${n} ${status}`).join(', ') || 'nothing'}`);
      if ((counts['rejected'] ?? 0) + (counts['unreadable'] ?? 0) > 0) process.exitCode = EXIT_FAILED;
    });
}
