/**
 * The client settings every calling command shares (SPEC §6): `--server`, `--member`, `--key`,
 * `--audience` or their `SIGNALBANK_*` variables, and `--json`; and the signed client built
 * from them.
 */
import type { Command } from 'commander';
import { SignalbankClient } from '../client/signalbank-client.js';
import { loadSigningKey } from '../client/sign-request.js';
import { loadClientSettings } from '../config.js';

export interface ClientFlags {
  readonly server?: string;
  readonly member?: string;
  readonly key?: string;
  readonly audience?: string;
  readonly json?: boolean;
}

export function withClientOptions(command: Command): Command {
  return command
    .option('--server <url>', 'service URL (SIGNALBANK_URL; default http://127.0.0.1:8080)')
    .option('--member <id>', 'your member id (SIGNALBANK_MEMBER)')
    .option('--key <path>', 'your private JWK file (SIGNALBANK_KEY)')
    .option('--audience <aud>', "the service's audience (SIGNALBANK_AUDIENCE; default signalbank)")
    .option('--json', 'machine-readable output');
}

export async function connect(flags: ClientFlags): Promise<SignalbankClient> {
  const settings = loadClientSettings(process.env, { server: flags.server, member: flags.member, key: flags.key, audience: flags.audience });
  const key = await loadSigningKey(settings.member, settings.key);
  return new SignalbankClient({ baseUrl: settings.server, key, audience: settings.audience });
}
