/**
 * The signal log for auditors, against the real server: entries and filters, checkpoints signed
 * by the log key, RFC 6962 proofs, the report, exports — and `verify`, which must name every kind
 * of tampering done directly to the SQLite file (bypassing the triggers) by seq.
 */
import Database from 'better-sqlite3';
import { importJWK, compactVerify, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEntriesPageSchema, AuditReportSchema, CheckpointSchema } from '../../src/api/audit-schemas.js';
import { checkpointPayload } from '../../src/audit/checkpoint.js';
import { verifyConsistency, verifyInclusion } from '../../src/audit/merkle-tree.js';
import { verifyLog, type Finding } from '../../src/audit/verify-log.js';
import { auditLogSource } from '../../src/client/audit-log-source.js';
import type { SubmitItem } from '../../src/client/signalbank-client.js';
import type { AuditEntry, Checkpoint } from '../../src/store/store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { jsonLines, runCli } from '../support/run-cli.js';
import { startTestService, type TestMember, type TestService } from '../support/test-service.js';
import { problemOf } from '../support/problem-answer.js';

const HASHES = [
  'd8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22',
  'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22',
  '2707f0331f0b57b0f1c8f5ddfd70980f4c91d12a699dc1e2cc194c63b16364dd',
  'a5f0a457bf5ee4b3a2a4b9a27e6ac3fdb1d26b59cbc1be0c59a1d4ea67e3d845',
];
const pdq = (hash: string, labels = ['suicide']): SubmitItem => ({ type: 'pdq', hash, labels, media: 'image', quality: 90 });

interface World {
  t: TestService;
  alice: TestMember;
  bob: TestMember;
  auditor: TestMember;
}

/** A service with some history: members, keys, submissions, an opinion, a retraction, a key revocation. */
async function world(): Promise<World> {
  const t = await startTestService();
  const alice = await t.member('alice', ['submitter', 'matcher']);
  const bob = await t.member('bob', ['submitter', 'matcher']);
  const auditor = await t.member('auditor', ['auditor']);
  // Distinct times for the since/until filters, staying within the CLI's clock skew.
  const later = () => (t.now += 1000);
  const [a, b] = (await alice.client.submit([pdq(HASHES[0]!, ['suicide', 'graphic']), pdq(HASHES[1]!)])).results;
  later();
  await bob.client.submit([pdq(HASHES[0]!, ['self_harm']), pdq(HASHES[2]!)]);
  later();
  await bob.client.setOpinion(b!.id!, { verdict: 'false_positive', reason: 'not violating' });
  later();
  await alice.client.retract(a!.id!);
  await alice.client.matchOne({ type: 'pdq', hash: HASHES[2]! });
  later();
  const spare = await t.member('spare', ['matcher']);
  await t.admin.client.request('DELETE', `/v1/admin/members/spare/keys/${spare.key.kid}`);
  later();
  await alice.client.submit([pdq(HASHES[3]!)]);
  return { t, alice, bob, auditor };
}

const verify = (w: World, saved?: unknown) => verifyLog(auditLogSource(w.auditor.client), saved === undefined ? {} : { saved });
const kinds = (findings: readonly Finding[]) => findings.map((f) => `${f.kind}${f.seq === undefined ? '' : `@${f.seq}`}`);

/** Edits the database file directly, as an operator with shell access could, triggers dropped. */
function tamper(w: World, edit: (db: Database.Database) => void): void {
  const db = new Database(w.t.dbPath);
  db.exec('DROP TRIGGER audit_entries_no_update; DROP TRIGGER audit_entries_no_delete;');
  edit(db);
  db.exec(`CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;
    CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;`);
  db.close();
}

describe('auditor routes', () => {
  let w: World;
  beforeAll(async () => {
    w = await world();
  });
  afterAll(async () => w?.t.stop());

  it('serves entries with filters and a cursor, to auditors only', async () => {
    const page = AuditEntriesPageSchema.parse(await w.auditor.client.request('GET', '/v1/audit/entries?limit=5'));
    expect(page.entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(page).toMatchObject({ next: 5, hasMore: true });
    expect(page.entries[0]).toMatchObject({ actor: 'operator', action: 'member.create', subject: 'admin', kid: null, proof: null });
    const next = AuditEntriesPageSchema.parse(await w.auditor.client.request('GET', '/v1/audit/entries?after=5&limit=2'));
    expect(next.entries.map((e) => e.seq)).toEqual([6, 7]);
    const bobs = AuditEntriesPageSchema.parse(await w.auditor.client.request('GET', '/v1/audit/entries?member=bob'));
    expect(bobs.entries.map((e) => e.action)).toEqual(['signal.submit', 'signal.submit', 'opinion.set']);
    expect(bobs.entries[0]?.proof).toMatch(/^eyJ/);
    const retractions = AuditEntriesPageSchema.parse(await w.auditor.client.request('GET', '/v1/audit/entries?action=signal.retract'));
    expect(retractions.entries).toHaveLength(1);
    const future = AuditEntriesPageSchema.parse(await w.auditor.client.request('GET', `/v1/audit/entries?since=${encodeURIComponent(new Date(w.t.now + 3_600_000).toISOString())}`));
    expect(future.entries).toEqual([]);
    expect(await problemOf(await w.auditor.client.send('GET', '/v1/audit/entries?since=yesterday'))).toEqual({ status: 400, code: 'ERR_VALIDATION' });
    for (const member of [w.alice, w.t.admin]) expect(await problemOf(await member.client.send('GET', '/v1/audit/entries'))).toEqual({ status: 403, code: 'ERR_FORBIDDEN' });
  });

  it('signs checkpoints with the log key and proves inclusion and consistency', async () => {
    const jwk = await w.auditor.client.request<JWK & { kid: string }>('GET', '/v1/audit/log-key');
    expect(jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
    expect(jwk).not.toHaveProperty('d');
    const first = CheckpointSchema.parse(await w.auditor.client.request('GET', '/v1/audit/checkpoint'));
    const { payload } = await compactVerify(first.signature, await importJWK(jwk, 'EdDSA'));
    expect(new TextDecoder().decode(payload)).toBe(checkpointPayload(first));
    await w.bob.client.submit([pdq(HASHES[3]!)]);
    const second = CheckpointSchema.parse(await w.auditor.client.request('GET', '/v1/audit/checkpoint'));
    expect(second.treeSize).toBe(first.treeSize + 1);
    const inclusion = await w.auditor.client.request<{ leafHash: string; proof: string[] }>('GET', `/v1/audit/proof/inclusion?seq=3&treeSize=${second.treeSize}`);
    expect(verifyInclusion(Buffer.from(inclusion.leafHash, 'hex'), 2, second.treeSize, inclusion.proof.map((h) => Buffer.from(h, 'hex')), Buffer.from(second.rootHash, 'hex'))).toBe(true);
    const consistency = await w.auditor.client.request<{ proof: string[] }>('GET', `/v1/audit/proof/consistency?from=${first.treeSize}&to=${second.treeSize}`);
    expect(verifyConsistency(first.treeSize, second.treeSize, consistency.proof.map((h) => Buffer.from(h, 'hex')), Buffer.from(first.rootHash, 'hex'), Buffer.from(second.rootHash, 'hex'))).toBe(true);
    expect((await problemOf(await w.auditor.client.send('GET', `/v1/audit/proof/inclusion?seq=${second.treeSize + 1}&treeSize=${second.treeSize}`))).status).toBe(400);
    expect((await problemOf(await w.auditor.client.send('GET', `/v1/audit/proof/consistency?from=2&to=${second.treeSize + 5}`))).status).toBe(400);
  });

  it('reports figures for a window, match counts included', async () => {
    await w.t.service.matchCounter.flush();
    const report = AuditReportSchema.parse(await w.auditor.client.request('GET', '/v1/audit/report'));
    expect(report.signals.created).toEqual(
      expect.arrayContaining([
        { type: 'pdq', label: 'graphic', count: 1 },
        { type: 'pdq', label: 'suicide', count: 4 },
      ]),
    );
    expect(report.opinions).toEqual([{ verdict: 'false_positive', count: 1 }]);
    expect(report.submissions).toEqual(expect.arrayContaining([{ member: 'alice', submitted: 3, retracted: 1 }]));
    expect(report.matches).toEqual([{ member: 'alice', queries: 1, hits: 1 }]);
    expect(report.membership.map((m) => m.action)).toEqual(expect.arrayContaining(['member.create', 'key.add', 'key.revoke']));
  });

  it('exports NDJSON and CSV that end with a consistent checkpoint', async () => {
    const ndjson = await (await w.auditor.client.stream('/v1/audit/export')).text();
    const lines = ndjson.trim().split('\n').map((line) => JSON.parse(line) as AuditEntry | { checkpoint: Checkpoint });
    const last = lines.at(-1) as { checkpoint: Checkpoint };
    expect(CheckpointSchema.parse(last.checkpoint).treeSize).toBe(lines.length - 1);
    expect((lines[0] as AuditEntry).seq).toBe(1);
    const csv = await (await w.auditor.client.stream('/v1/audit/export?format=csv')).text();
    const rows = csv.trim().split('\r\n');
    expect(rows[0]).toBe('seq,at,actor,kid,action,subject,data,proof');
    expect(rows.at(-1)).toMatch(/^#checkpoint,"\{""treeSize"":/);
    expect(rows).toHaveLength(lines.length + 1);
    const since = (lines as AuditEntry[]).find((e) => e.action === 'opinion.set')!.at;
    const part = await (await w.auditor.client.stream(`/v1/audit/export?since=${encodeURIComponent(since)}`)).text();
    expect(part.trim().split('\n').length).toBeLessThan(lines.length);
  });

  it('verifies a clean log, and stays consistent with a checkpoint saved earlier', async () => {
    const first = await verify(w);
    expect(first.findings).toEqual([]);
    expect(first.ok).toBe(true);
    expect(first.unsignedEntries).toBe(2);
    await w.alice.client.submit([pdq(HASHES[2]!)]);
    const second = await verify(w, first.checkpoint);
    expect(second).toMatchObject({ ok: true, saved: { treeSize: first.checkpoint!.treeSize, consistent: true } });
  });
});

describe('audit verify catches tampering with the database file', () => {
  let w: World;
  let saved: Checkpoint;
  beforeAll(async () => {
    w = await world();
    const clean = await verify(w);
    expect(clean.ok).toBe(true);
    saved = clean.checkpoint!;
  });
  afterAll(async () => w?.t.stop());

  const cases: Array<[name: string, edit: (db: Database.Database) => void, expected: string[]]> = [
    ['a rewritten entry', (db) => db.prepare("UPDATE audit_entries SET data = json_set(data, '$.labels', json('[\"self_harm\"]')) WHERE seq = 9").run(), ['rewritten@9']],
    ['a rewritten actor', (db) => db.prepare("UPDATE audit_entries SET actor = 'bob' WHERE seq = 10").run(), ['signature@10', 'rewritten@10']],
    ['a removed entry', (db) => db.prepare('DELETE FROM audit_entries WHERE seq = 10').run(), ['missing@10']],
    [
      'a removed entry with the rest renumbered',
      (db) => {
        db.prepare('DELETE FROM audit_entries WHERE seq = 10').run();
        db.prepare('UPDATE audit_entries SET seq = seq - 1 WHERE seq > 10').run();
      },
      ['missing@10', 'renumbered@10'],
    ],
    [
      'an entry inserted at the end',
      (db) => db.prepare("INSERT INTO audit_entries (seq, at, actor, kid, action, subject, data) SELECT max(seq) + 1, '2026-01-01T00:00:00.000Z', 'operator', NULL, 'member.update', 'bob', '{\"status\":\"suspended\"}' FROM audit_entries").run(),
      ['signature@LAST'],
    ],
    [
      'an entry inserted in the middle, the rest renumbered',
      (db) => {
        db.prepare('UPDATE audit_entries SET seq = -seq - 1 WHERE seq >= 8').run();
        db.prepare('UPDATE audit_entries SET seq = -seq WHERE seq < 0').run();
        db.prepare("INSERT INTO audit_entries (seq, at, actor, kid, action, subject, data) VALUES (8, '2026-01-01T00:00:00.000Z', 'operator', NULL, 'member.update', 'bob', '{}')").run();
      },
      ['inserted@8', 'renumbered@9'],
    ],
    [
      'two entries swapped',
      (db) => {
        const rows = db.prepare('SELECT seq, at, actor, kid, action, subject, data, proof_id FROM audit_entries WHERE seq IN (9, 10) ORDER BY seq').all() as Record<string, unknown>[];
        const update = db.prepare('UPDATE audit_entries SET at = @at, actor = @actor, kid = @kid, action = @action, subject = @subject, data = @data, proof_id = @proof_id WHERE seq = @target');
        update.run({ ...rows[1], target: 9 });
        update.run({ ...rows[0], target: 10 });
      },
      ['reordered@9', 'reordered@10'],
    ],
  ];

  it.each(cases)('%s', async (_name, edit, expected) => {
    const backup = `${w.t.dbPath}.clean`;
    await w.t.service.store.db.backup(backup);
    const lastSeq = (await w.t.service.store.auditTreeHead()).treeSize + 1;
    tamper(w, edit);
    const result = await verify(w, saved);
    expect(result.ok).toBe(false);
    const found = kinds(result.findings);
    for (const finding of expected) expect(found).toContain(finding.replace('LAST', String(lastSeq)));
    // Restore the clean file for the next case.
    const clean = new Database(backup, { readonly: true });
    await clean.backup(w.t.dbPath);
    clean.close();
  });

  it('catches a rewrite that also rebuilt the tree and re-signed checkpoints, given a saved checkpoint', async () => {
    const cli = await runCli(['audit', 'verify', '--json'], { env: { SIGNALBANK_URL: w.t.service.url, SIGNALBANK_MEMBER: 'auditor', SIGNALBANK_KEY: '' } });
    expect(cli.code).toBe(1);
    await w.t.service.close();
    tamper(w, (db) => {
      db.prepare("UPDATE audit_entries SET data = json_set(data, '$.labels', json('[\"self_harm\"]')) WHERE seq = 9").run();
      db.exec(`DROP TRIGGER audit_leaf_chunks_no_delete; DELETE FROM audit_leaf_chunks; DROP TRIGGER audit_tree_nodes_no_delete; DELETE FROM audit_tree_nodes;
        DROP TRIGGER audit_checkpoints_no_delete; DELETE FROM audit_checkpoints;`);
    });
    SqliteStore.open({ path: w.t.dbPath }).db.close(); // reopening rebuilds the tree from the rewritten entries
    await w.t.restart();
    const blind = await verify(w);
    expect(blind.ok).toBe(true); // without an earlier checkpoint a full rewrite cannot be seen…
    const result = await verify(w, saved);
    expect(result.ok).toBe(false); // …with one it is
    expect(kinds(result.findings)).toContain('inconsistent');
  });
});

describe('audit CLI', () => {
  let w: World;
  beforeAll(async () => {
    w = await world();
  });
  afterAll(async () => w?.t.stop());

  it('verifies, saves the checkpoint, reports and exports', async () => {
    const keyPath = `${w.t.dir}/auditor.private.jwk.json`;
    await import('node:fs/promises').then((fs) => fs.writeFile(keyPath, JSON.stringify(w.auditor.privateJwk)));
    const env = { SIGNALBANK_URL: w.t.service.url, SIGNALBANK_MEMBER: 'auditor', SIGNALBANK_KEY: keyPath };
    const saved = `${w.t.dir}/checkpoint.json`;
    const first = await runCli(['audit', 'verify', '--save', saved], { env });
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('signal log verified');
    await w.alice.client.submit([pdq(HASHES[2]!, ['self_harm'])]);
    const second = await runCli(['audit', 'verify', '--checkpoint', saved, '--json'], { env });
    expect(second.code).toBe(0);
    expect(jsonLines(second.stdout)[0]).toMatchObject({ ok: true, saved: { consistent: true } });
    const report = await runCli(['audit', 'report'], { env });
    expect(report.stdout).toContain('signals created');
    const out = `${w.t.dir}/export.ndjson`;
    expect((await runCli(['audit', 'export', '--out', out], { env })).code).toBe(0);
    const fromExport = await runCli(['audit', 'verify', '--checkpoint', out], { env });
    expect(fromExport.code).toBe(0);
    tamper(w, (db) => db.prepare('DELETE FROM audit_entries WHERE seq = 4').run());
    const failed = await runCli(['audit', 'verify', '--checkpoint', saved], { env });
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/missing\s+seq 4/);
  });
});
