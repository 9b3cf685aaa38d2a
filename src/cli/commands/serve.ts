/**
 * `signalbank serve`: runs the HTTP service (SPEC §6). Settings come from the environment
 * (docs/operations.md lists every one) with the flags winning; on a missing database it runs
 * `init` first. Logs are JSON lines on stdout. SIGTERM or SIGINT shut it down gracefully: stop
 * accepting, finish in-flight requests, close the database. A second Ctrl-C (SIGINT) exits at
 * once; a repeated SIGTERM (supervisors and process groups send several) changes nothing.
 */
import type { Command } from 'commander';
import { startService } from '../../api/service.js';
import { createServiceLogger } from '../../runtime/service-logger.js';
import { loadConfig } from '../../config.js';
import { packageVersion } from '../package-version.js';

interface ServeFlags {
  port?: string;
  host?: string;
  db?: string;
  audience?: string;
  index?: string;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('run the HTTP service (initialises the database on first start)')
    .option('--port <port>', 'TCP port; 0 picks a free one (PORT; default 8080)')
    .option('--host <address>', 'address to listen on (SIGNALBANK_HOST; default 127.0.0.1)')
    .option('--db <path>', 'SQLite database file (SIGNALBANK_DB; default ./data/signalbank.db)')
    .option('--audience <aud>', 'the aud every signed request must carry (SIGNALBANK_AUDIENCE; default signalbank)')
    .option('--index <kind>', 'multi-index or linear-scan (SIGNALBANK_INDEX; default multi-index)')
    .option('--json', 'JSON output (the logs are always JSON lines)')
    .action(async (flags: ServeFlags) => {
      const config = loadConfig(process.env, {
        port: flags.port,
        host: flags.host,
        dbPath: flags.db,
        audience: flags.audience,
        indexKind: flags.index,
      });
      const logger = createServiceLogger(config.logLevel);
      const service = await startService(config, { logger, version: packageVersion() });
      await new Promise<void>((done) => {
        let stopping = false;
        const stop = (signal: NodeJS.Signals): void => {
          if (stopping) {
            if (signal !== 'SIGINT') return;
            logger.warn({ signal }, 'second interrupt: exiting without finishing in-flight requests');
            process.exit(1);
          }
          stopping = true;
          logger.info({ signal }, 'signal received');
          service.close().then(done, (error: unknown) => {
            logger.error({ err: error }, 'shutdown failed');
            process.exitCode = 1;
            done();
          });
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
      });
    });
}
