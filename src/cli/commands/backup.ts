/**
 * `signalbank backup <file>`: a consistent copy of the live database through SQLite's online
 * backup API (the service may keep serving and writing meanwhile), then `PRAGMA integrity_check`
 * on the copy (src/store/sqlite/backup-database.ts). The copy is a complete database: start a
 * service on it to restore.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig } from '../../config.js';
import { ConflictError, OperationError } from '../../errors.js';
import { backupDatabase } from '../../store/sqlite/backup-database.js';
import { createOutput } from '../output.js';

export function register(program: Command): void {
  program
    .command('backup <file>')
    .description('copy the live database consistently (online backup), then check the copy')
    .option('--db <path>', 'SQLite database file (SIGNALBANK_DB; default ./data/signalbank.db)')
    .option('--json', 'machine-readable output')
    .action(async (file: string, flags: { db?: string; json?: boolean }) => {
      const config = loadConfig(process.env, { dbPath: flags.db });
      const target = resolve(file);
      if (existsSync(target)) throw new ConflictError(`${target} already exists; back up to a new file`);
      if (!existsSync(config.dbPath)) throw new OperationError('ERR_CONFIG', `No database at ${resolve(config.dbPath)}`);
      const { bytes, ms, integrity } = await backupDatabase(config.dbPath, target);
      const report = { source: resolve(config.dbPath), backup: target, bytes, ms, integrity };
      createOutput(flags.json ?? false).record(report, `backed up ${report.source} to ${report.backup} (${report.bytes} bytes, ${report.ms} ms, integrity ok)`);
    });
}
