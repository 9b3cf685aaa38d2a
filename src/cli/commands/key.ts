/**
 * `signalbank key add|revoke|list`: a member's public keys through the signed admin API. `add`
 * reads a public JWK file (as printed by `keygen`) or stdin (`-`).
 */
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { InputError } from '../../errors.js';
import { connect, withClientOptions, type ClientFlags } from '../client-options.js';
import { createOutput, formatTable } from '../output.js';

interface KeyRecord {
  kid: string;
  alg: string;
  status: string;
  createdAt: string;
  revokedAt: string | null;
}

async function readJwk(source: string): Promise<unknown> {
  let text: string;
  try {
    text = source === '-' ? await readStdin() : await readFile(source, 'utf8');
  } catch (error) {
    throw new InputError('ERR_VALIDATION', `Cannot read ${source}: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    const value = JSON.parse(text) as Record<string, unknown>;
    // `keygen --json` output carries the JWK under publicJwk.
    return typeof value['publicJwk'] === 'object' ? value['publicJwk'] : value;
  } catch {
    throw new InputError('ERR_VALIDATION', `${source} does not hold a JSON JWK`);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function register(program: Command): void {
  const key = program.command('key').description("manage members' public keys (admin role)");

  withClientOptions(key.command('add <member> <jwk-file>').description('register a public JWK for a member (- reads stdin)')).action(
    async (member: string, file: string, flags: ClientFlags) => {
      const client = await connect(flags);
      const added = await client.request<KeyRecord>('POST', `/v1/admin/members/${encodeURIComponent(member)}/keys`, { jwk: await readJwk(file) });
      createOutput(flags.json ?? false).record(added, `registered key ${added.kid} (${added.alg}) for ${member}; sign with kid ${added.kid}`);
    },
  );

  withClientOptions(key.command('revoke <member> <kid>').description('revoke a key: requests signed with it are refused from now on')).action(
    async (member: string, kid: string, flags: ClientFlags) => {
      const client = await connect(flags);
      const revoked = await client.request<KeyRecord>('DELETE', `/v1/admin/members/${encodeURIComponent(member)}/keys/${encodeURIComponent(kid)}`);
      createOutput(flags.json ?? false).record(revoked, `revoked key ${revoked.kid} of ${member} at ${revoked.revokedAt ?? ''}`);
    },
  );

  withClientOptions(key.command('list <member>').description("list a member's keys")).action(async (member: string, flags: ClientFlags) => {
    const client = await connect(flags);
    const { keys } = await client.request<{ keys: KeyRecord[] }>('GET', `/v1/admin/members/${encodeURIComponent(member)}/keys`);
    const out = createOutput(flags.json ?? false);
    if (out.json) for (const k of keys) out.record(k);
    else out.record(keys, formatTable(keys as unknown as Record<string, unknown>[], ['kid', 'alg', 'status', 'createdAt', 'revokedAt']));
  });
}
