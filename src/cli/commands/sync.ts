/**
 * `signalbank sync --mirror mirror.db` (issue 6): creates or updates a local SQLite mirror of the
 * bank from the change feed (sync role), resuming from the cursor stored in the mirror. Each page
 * is applied with its cursor in one transaction, so the command can be killed at any point and
 * run again. A progress bar goes to stderr when it is a terminal (or with `--progress`); the
 * summary (applied, upserts, deletes, cursor, elapsed) goes to stdout.
 */
import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import { MirrorDb } from '../../client/mirror/mirror-db.js';
import { SYNC_PAGE_SIZE, syncMirror, type SyncProgress } from '../../client/mirror/sync-mirror.js';
import { connect, withClientOptions, type ClientFlags } from '../client-options.js';
import { createOutput } from '../output.js';
import { progressBar, PROGRESS_OPTION } from '../progress-bar.js';

interface Flags extends ClientFlags {
  mirror: string;
  pageSize?: string;
  progress?: boolean;
}

export function register(program: Command): void {
  withClientOptions(program.command('sync').description('create or update a local mirror of the bank from the change feed'))
    .requiredOption('--mirror <file>', 'the mirror (SQLite file; created when missing)')
    .option('--page-size <n>', `changes per request (1–10000, default ${SYNC_PAGE_SIZE})`)
    .option(...PROGRESS_OPTION)
    .action(async (flags: Flags) => {
      const pageSize = flags.pageSize === undefined ? SYNC_PAGE_SIZE : Number(flags.pageSize);
      if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 10_000) {
        throw new InputError('ERR_VALIDATION', `Expected --page-size to be a whole number 1–10000 but received ${JSON.stringify(flags.pageSize)}`);
      }
      const client = await connect(flags);
      const out = createOutput(flags.json ?? false);
      const mirror = MirrorDb.open(flags.mirror, { create: true });
      const bar = progressBar('syncing [{bar}] {value}/{total} changes | {eta_formatted} left', flags.progress === true);
      let started = false;
      const onPage = bar
        ? ({ from, cursor, lastSeq }: SyncProgress) => {
            const total = Math.max(lastSeq - from, 1);
            if (!started) bar.start(total, 0);
            started = true;
            bar.setTotal(total);
            bar.update(cursor - from);
          }
        : undefined;
      try {
        const summary = await syncMirror(client, mirror, { pageSize, ...(onPage && { onPage }) });
        bar?.stop();
        out.record(
          { mirror: flags.mirror, ...summary },
          `synced ${summary.applied} changes (${summary.upserts} upserts, ${summary.deletes} deletes) in ${summary.elapsedSeconds.toFixed(1)} s; ` +
            `cursor ${summary.cursor}; ${summary.signals} signals in ${flags.mirror}`,
        );
      } finally {
        bar?.stop();
        mirror.close();
      }
    });
}
