/**
 * `signalbank audit verify|report|export` (auditor role). `verify` downloads the whole signal log,
 * recomputes its Merkle tree, checks the signed checkpoint, consistency with a checkpoint saved
 * earlier (`--checkpoint`), every entry's request signature, and names each rewritten, missing,
 * inserted or reordered entry by seq; it exits 1 unless everything holds, and `--save` keeps the
 * verified checkpoint for next time. `report` prints transparency figures; `export` streams the
 * log as NDJSON or CSV ending with its checkpoint.
 */
import type { Command } from 'commander';
import { createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { verifyLog } from '../../audit/verify-log.js';
import { auditLogSource } from '../../client/audit-log-source.js';
import { withQuery } from '../../client/signalbank-client.js';
import { InputError } from '../../errors.js';
import type { AuditReport } from '../../store/store.js';
import { connect, withClientOptions, type ClientFlags } from '../client-options.js';
import { createOutput, EXIT_FAILED, formatTable } from '../output.js';

/** A checkpoint from a file: a checkpoint object, `{checkpoint}`, or an export whose last line holds it. */
export async function readSavedCheckpoint(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InputError('ERR_VALIDATION', `Cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const candidates = [text, text.trim().split('\n').at(-1) ?? ''];
  for (const candidate of candidates) {
    const csv = candidate.startsWith('#checkpoint,') ? candidate.slice('#checkpoint,'.length).replace(/^"|"\r?$/g, '').replaceAll('""', '"') : candidate;
    try {
      const value = JSON.parse(csv) as Record<string, unknown>;
      return typeof value['checkpoint'] === 'object' ? value['checkpoint'] : value;
    } catch {
      // Try the next form.
    }
  }
  throw new InputError('ERR_VALIDATION', `${path} holds no checkpoint`);
}

function printReport(report: AuditReport): string {
  const section = (title: string, rows: readonly Record<string, unknown>[], columns: string[]) =>
    `${title}\n${rows.length === 0 ? '  (none)' : formatTable(rows, columns).replace(/^/gm, '  ')}`;
  return [
    `signal log report ${report.since ?? 'start'} – ${report.until ?? 'now'}`,
    section('signals created', report.signals.created, ['type', 'label', 'count']),
    section('signals retracted', report.signals.retracted, ['type', 'label', 'count']),
    section('signals disputed', report.signals.disputed, ['type', 'label', 'count']),
    section('submissions by member', report.submissions, ['member', 'submitted', 'retracted']),
    section('opinions', report.opinions, ['verdict', 'count']),
    section('match queries by member', report.matches, ['member', 'queries', 'hits']),
    section('member and key changes', report.membership, ['seq', 'at', 'actor', 'action', 'subject']),
  ].join('\n\n');
}

export function register(program: Command): void {
  const audit = program.command('audit').description('verify, report on and export the signal log (auditor role)');

  withClientOptions(audit.command('verify').description('recompute the log, check checkpoints, signatures and consistency'))
    .option('--checkpoint <file>', 'a checkpoint saved earlier (or an export) the log must still be consistent with')
    .option('--save <file>', 'write the verified checkpoint here, for the next verification')
    .action(async (flags: ClientFlags & { checkpoint?: string; save?: string }) => {
      const client = await connect(flags);
      const out = createOutput(flags.json ?? false);
      const saved = flags.checkpoint === undefined ? undefined : await readSavedCheckpoint(flags.checkpoint);
      const progress = process.stderr.isTTY && !flags.json ? (n: number) => process.stderr.write(`\rverified ${n} entries…`) : undefined;
      const result = await verifyLog(auditLogSource(client), { ...(saved !== undefined && { saved }), ...(progress && { onProgress: progress }) });
      if (progress) process.stderr.write('\n');
      const lines = [
        result.ok ? 'signal log verified' : 'signal log FAILED verification',
        `  entries        ${result.entries} (${result.signedRequests} signed requests checked, ${result.unsignedEntries} operator entries)`,
        result.checkpoint ? `  checkpoint     ${result.checkpoint.treeSize} entries, root ${result.checkpoint.rootHash}, ${result.checkpoint.timestamp}` : '  checkpoint     not verified',
        ...(result.saved ? [`  saved          ${result.saved.treeSize} entries: ${result.saved.consistent ? 'consistent' : 'INCONSISTENT'}`] : []),
        `  time           ${result.ms} ms`,
        ...result.findings.map((f) => `  ${f.kind.padEnd(12)} ${f.seq !== undefined ? `seq ${f.seq}: ` : ''}${f.message}`),
      ];
      out.record(result, lines.join('\n'));
      if (result.ok && flags.save !== undefined && result.checkpoint) await writeFile(flags.save, `${JSON.stringify(result.checkpoint, null, 2)}\n`);
      if (!result.ok) process.exitCode = EXIT_FAILED;
    });

  withClientOptions(audit.command('report').description('transparency-report figures for a time window'))
    .option('--since <time>', 'RFC 3339 start (inclusive)')
    .option('--until <time>', 'RFC 3339 end (exclusive)')
    .action(async (flags: ClientFlags & { since?: string; until?: string }) => {
      const client = await connect(flags);
      const report = await client.request<AuditReport>('GET', withQuery('/v1/audit/report', { since: flags.since, until: flags.until }));
      createOutput(flags.json ?? false).record(report, printReport(report));
    });

  withClientOptions(audit.command('export').description('stream the log as NDJSON or CSV, ending with its checkpoint'))
    .option('--format <format>', 'ndjson or csv', 'ndjson')
    .option('--since <time>', 'RFC 3339 start (inclusive)')
    .option('--until <time>', 'RFC 3339 end (exclusive)')
    .option('--out <file>', 'write to a file instead of stdout')
    .action(async (flags: ClientFlags & { format: string; since?: string; until?: string; out?: string }) => {
      const client = await connect(flags);
      const response = await client.stream(withQuery('/v1/audit/export', { format: flags.format, since: flags.since, until: flags.until }));
      const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
      if (flags.out !== undefined) {
        await pipeline(body, createWriteStream(flags.out, { flags: 'wx' }));
        return;
      }
      // stdout is never ended: write with back-pressure.
      for await (const chunk of body) if (!process.stdout.write(chunk as Buffer)) await once(process.stdout, 'drain');
    });
}
