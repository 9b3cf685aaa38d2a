/**
 * `signalbank member add|list|update`: member administration through the signed admin API.
 */
import type { Command } from 'commander';
import { connect, withClientOptions, type ClientFlags } from '../client-options.js';
import { createOutput, formatTable } from '../output.js';

interface MemberRecord {
  id: string;
  name: string;
  roles: string[];
  status: string;
  createdAt: string;
  updatedAt: string;
}

const list = (value: string): string[] =>
  value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);

const describeMember = (m: MemberRecord) => `${m.id}  ${m.status}  roles=${m.roles.join(',') || '-'}  name=${JSON.stringify(m.name)}`;

export function register(program: Command): void {
  const member = program.command('member').description('manage members (admin role)');

  withClientOptions(member.command('add <id>').description('add a member'))
    .requiredOption('--name <name>', 'display name')
    .option('--roles <roles>', 'comma-separated: submitter, matcher, sync, auditor, admin', '')
    .action(async (id: string, flags: ClientFlags & { name: string; roles: string }) => {
      const client = await connect(flags);
      const created = await client.request<MemberRecord>('POST', '/v1/admin/members', { id, name: flags.name, roles: list(flags.roles) });
      createOutput(flags.json ?? false).record(created, `added ${describeMember(created)}`);
    });

  withClientOptions(member.command('list').description('list members')).action(async (flags: ClientFlags) => {
    const client = await connect(flags);
    const { members } = await client.request<{ members: MemberRecord[] }>('GET', '/v1/admin/members');
    const out = createOutput(flags.json ?? false);
    if (out.json) for (const m of members) out.record(m);
    else out.record(members, formatTable(members as unknown as Record<string, unknown>[], ['id', 'status', 'roles', 'name', 'createdAt']));
  });

  withClientOptions(member.command('update <id>').description("change a member's name, roles or status"))
    .option('--name <name>', 'new display name')
    .option('--roles <roles>', 'new comma-separated roles (replaces the old ones)')
    .option('--status <status>', 'active or suspended')
    .action(async (id: string, flags: ClientFlags & { name?: string; roles?: string; status?: string }) => {
      const client = await connect(flags);
      const patch = { ...(flags.name !== undefined && { name: flags.name }), ...(flags.roles !== undefined && { roles: list(flags.roles) }), ...(flags.status !== undefined && { status: flags.status }) };
      const updated = await client.request<MemberRecord>('PATCH', `/v1/admin/members/${encodeURIComponent(id)}`, patch);
      createOutput(flags.json ?? false).record(updated, `updated ${describeMember(updated)}`);
    });
}
