/**
 * `signalbank init`: creates the database and the first admin member with a fresh Ed25519 key,
 * printing where the private key went and its kid. Safe to run again: an initialised database is
 * left as it is.
 */
import type { Command } from 'commander';
import { initialiseBank } from '../../bank/initialise-bank.js';
import { loadConfig } from '../../config.js';
import { createOutput } from '../output.js';

export function register(program: Command): void {
  program
    .command('init')
    .description('create the database and the first admin member with a fresh key')
    .option('--db <path>', 'SQLite database file (SIGNALBANK_DB; default ./data/signalbank.db)')
    .option('--admin-key <path>', "where to write the admin's private JWK (default: next to the database)")
    .option('--json', 'machine-readable output')
    .action(async (flags: { db?: string; adminKey?: string; json?: boolean }) => {
      const config = loadConfig(process.env, { dbPath: flags.db });
      const report = await initialiseBank({
        dbPath: config.dbPath,
        ...(flags.adminKey !== undefined && { adminKeyPath: flags.adminKey }),
        ...(config.logKeyPath !== undefined && { logKeyPath: config.logKeyPath }),
      });
      const out = createOutput(flags.json ?? false);
      if (!report.created || !report.admin) {
        out.record(report, `${report.dbPath} is already initialised (schema version ${report.schemaVersion}); nothing changed.`);
        return;
      }
      out.record(
        report,
        [
          `database       ${report.dbPath} (schema version ${report.schemaVersion})`,
          `admin member   ${report.admin.memberId}`,
          `admin kid      ${report.admin.kid}`,
          `private key    ${report.admin.privateKeyPath} (mode 0600; keep it secret)`,
          ...(report.logKey ? [`log key        ${report.logKey.privateKeyPath} (${report.logKey.kid}; signs checkpoints; back it up)`] : []),
          '',
          `Next: export SIGNALBANK_MEMBER=${report.admin.memberId} SIGNALBANK_KEY=${report.admin.privateKeyPath}`,
        ].join('\n'),
      );
    });
}
