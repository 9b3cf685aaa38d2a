#!/usr/bin/env node
/**
 * The `signalbank` command line (SPEC §6): builds the commander program from one module per
 * command under `commands/`, runs it, and turns any failure into a coded message and exit code.
 */
import { Command, CommanderError } from 'commander';
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import * as auditCommand from './commands/audit.js';
import * as backupCommand from './commands/backup.js';
import * as hashCommand from './commands/hash.js';
import * as initCommand from './commands/init.js';
import * as jobCommand from './commands/job.js';
import * as keyCommand from './commands/key.js';
import * as keygenCommand from './commands/keygen.js';
import * as matchCommand from './commands/match.js';
import * as memberCommand from './commands/member.js';
import * as serveCommand from './commands/serve.js';
import * as submitCommand from './commands/submit.js';
import * as syncCommand from './commands/sync.js';
import { EXIT_USAGE, reportFailure } from './output.js';
import { packageVersion } from './package-version.js';

export interface CommandModule {
  register(program: Command): void;
}

const COMMANDS: readonly CommandModule[] = [
  serveCommand,
  hashCommand,
  initCommand,
  keygenCommand,
  memberCommand,
  keyCommand,
  submitCommand,
  matchCommand,
  jobCommand,
  syncCommand,
  auditCommand,
  backupCommand,
];

export function buildProgram(): Command {
  const program = new Command('signalbank')
    .description('Share and match perceptual hashes of suicide and self-harm violating media.')
    .version(packageVersion())
    .showHelpAfterError()
    .exitOverride();
  for (const command of COMMANDS) command.register(program);
  return program;
}

export async function runCli(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
    return reportFailure(error, json);
  }
}

/** True when this file is the program being run, also through the `bin` symlink npm installs. */
function isMainModule(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (isMainModule()) {
  process.exitCode = await runCli(process.argv.slice(2));
}
