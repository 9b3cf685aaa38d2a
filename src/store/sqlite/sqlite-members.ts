/**
 * SQLite persistence of members, their keys, the replay guard and the label taxonomy. Each
 * change appends its audit entry in the same immediate transaction. Guards against locking the
 * operators out: the last active admin cannot be suspended, demoted or left without a key.
 */
import { randomBytes } from 'node:crypto';
import type { JWK } from 'jose';
import { ConflictError, NotFoundError } from '../../errors.js';
import type { Label, LabelKind } from '../../signals/labels.js';
import type { AuditOrigin, KeyAlgorithm, Member, MemberKey, MemberPatch, MemberStatus, NewKey, NewMember, Role } from '../store.js';
import type { SqliteDatabase } from './database.js';
import type { SqliteAuditLog } from './sqlite-audit.js';

interface MemberRow {
  id: string;
  name: string;
  roles: string;
  status: MemberStatus;
  created_at: string;
  updated_at: string;
}

interface KeyRow {
  kid: string;
  member_id: string;
  alg: KeyAlgorithm;
  public_jwk: string;
  thumbprint: string;
  status: 'active' | 'revoked';
  created_at: string;
  revoked_at: string | null;
}

interface LabelRow {
  name: string;
  kind: LabelKind;
  description: string;
}

const toMember = (row: MemberRow): Member => ({
  id: row.id,
  name: row.name,
  roles: JSON.parse(row.roles) as Role[],
  status: row.status,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const toKey = (row: KeyRow): MemberKey => ({
  kid: row.kid,
  memberId: row.member_id,
  alg: row.alg,
  publicJwk: JSON.parse(row.public_jwk) as JWK,
  thumbprint: row.thumbprint,
  status: row.status,
  createdAt: row.created_at,
  revokedAt: row.revoked_at,
});

export class SqliteMembers {
  private readonly q;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly audit: SqliteAuditLog,
    private readonly now: () => string,
  ) {
    this.q = {
      member: db.prepare<[string], MemberRow>('SELECT * FROM members WHERE id = ?'),
      members: db.prepare<[], MemberRow>('SELECT * FROM members ORDER BY id'),
      insertMember: db.prepare('INSERT INTO members (id, name, roles, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)'),
      updateMember: db.prepare('UPDATE members SET name = ?, roles = ?, status = ?, updated_at = ? WHERE id = ?'),
      // Active admins that hold at least one active key: the operators who can still act.
      usableAdmins: db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM members m
        WHERE m.status = 'active' AND EXISTS (SELECT 1 FROM json_each(m.roles) WHERE value = 'admin')
          AND EXISTS (SELECT 1 FROM member_keys k WHERE k.member_id = m.id AND k.status = 'active')`),
      key: db.prepare<[string], KeyRow>('SELECT * FROM member_keys WHERE kid = ?'),
      keyByThumbprint: db.prepare<[string], KeyRow>('SELECT * FROM member_keys WHERE thumbprint = ?'),
      keys: db.prepare<[string], KeyRow>('SELECT * FROM member_keys WHERE member_id = ? ORDER BY created_at, kid'),
      insertKey: db.prepare(
        "INSERT INTO member_keys (kid, member_id, alg, public_jwk, thumbprint, status, created_at) VALUES (?, ?, ?, ?, ?, 'active', ?)",
      ),
      revokeKey: db.prepare("UPDATE member_keys SET status = 'revoked', revoked_at = ? WHERE kid = ?"),
      consumeJti: db.prepare('INSERT OR IGNORE INTO used_jtis (member_id, jti, expires_at) VALUES (?, ?, ?)'),
      pruneJtis: db.prepare('DELETE FROM used_jtis WHERE expires_at < ?'),
      labels: db.prepare<[], LabelRow>("SELECT name, kind, description FROM labels ORDER BY kind = 'modifier', name"),
      label: db.prepare<[string], LabelRow>('SELECT name, kind, description FROM labels WHERE name = ?'),
      insertLabel: db.prepare('INSERT INTO labels (name, kind, description, created_at) VALUES (?, ?, ?, ?)'),
    };
  }

  createMember(member: NewMember, origin: AuditOrigin): Member {
    return this.db
      .transaction(() => {
        if (this.q.member.get(member.id)) throw new ConflictError(`Member ${member.id} already exists`);
        const at = this.now();
        this.q.insertMember.run(member.id, member.name, JSON.stringify(member.roles), 'active', at, at);
        this.audit.appender(origin).append('member.create', member.id, { name: member.name, roles: member.roles }, at);
        return this.mustGetMember(member.id);
      })
      .immediate();
  }

  updateMember(id: string, patch: MemberPatch, origin: AuditOrigin): Member {
    return this.db
      .transaction(() => {
        const before = this.mustGetMember(id);
        const after = {
          name: patch.name ?? before.name,
          roles: patch.roles ?? before.roles,
          status: patch.status ?? before.status,
        };
        const changes: Record<string, unknown> = {};
        if (after.name !== before.name) changes['name'] = after.name;
        if (JSON.stringify(after.roles) !== JSON.stringify(before.roles)) changes['roles'] = after.roles;
        if (after.status !== before.status) changes['status'] = after.status;
        if (Object.keys(changes).length === 0) return before;
        const at = this.now();
        const adminsBefore = this.usableAdmins();
        this.q.updateMember.run(after.name, JSON.stringify(after.roles), after.status, at, id);
        this.assertAdminsRemain(adminsBefore);
        this.audit.appender(origin).append('member.update', id, changes, at);
        return this.mustGetMember(id);
      })
      .immediate();
  }

  getMember(id: string): Member | undefined {
    const row = this.q.member.get(id);
    return row && toMember(row);
  }

  listMembers(): Member[] {
    return this.q.members.all().map(toMember);
  }

  addKey(memberId: string, key: NewKey, origin: AuditOrigin): MemberKey {
    return this.db
      .transaction(() => {
        this.mustGetMember(memberId);
        const existing = this.q.keyByThumbprint.get(key.thumbprint);
        if (existing) {
          const owner = existing.member_id === memberId ? 'this member' : 'another member';
          throw new ConflictError(`This public key is already registered to ${owner} (kid ${existing.member_id === memberId ? existing.kid : 'withheld'})`);
        }
        let kid = key.preferredKid !== undefined && !this.q.key.get(key.preferredKid) ? key.preferredKid : key.thumbprint;
        if (this.q.key.get(kid)) kid = `${key.thumbprint}-${randomBytes(4).toString('hex')}`;
        const at = this.now();
        this.q.insertKey.run(kid, memberId, key.alg, JSON.stringify(key.publicJwk), key.thumbprint, at);
        this.audit.appender(origin).append('key.add', kid, { member: memberId, alg: key.alg, jwk: key.publicJwk, thumbprint: key.thumbprint }, at);
        return toKey(this.q.key.get(kid)!);
      })
      .immediate();
  }

  revokeKey(memberId: string, kid: string, origin: AuditOrigin): MemberKey {
    return this.db
      .transaction(() => {
        const row = this.q.key.get(kid);
        if (!row || row.member_id !== memberId) throw new NotFoundError(`Member ${memberId} has no key ${kid}`);
        if (row.status === 'revoked') return toKey(row);
        const at = this.now();
        const adminsBefore = this.usableAdmins();
        this.q.revokeKey.run(at, kid);
        this.assertAdminsRemain(adminsBefore);
        this.audit.appender(origin).append('key.revoke', kid, { member: memberId }, at);
        return toKey(this.q.key.get(kid)!);
      })
      .immediate();
  }

  getKey(kid: string): MemberKey | undefined {
    const row = this.q.key.get(kid);
    return row && toKey(row);
  }

  listKeys(memberId: string): MemberKey[] {
    this.mustGetMember(memberId);
    return this.q.keys.all(memberId).map(toKey);
  }

  consumeJti(memberId: string, jti: string, expiresAtSeconds: number): boolean {
    return this.q.consumeJti.run(memberId, jti, expiresAtSeconds).changes === 1;
  }

  pruneJtis(nowSeconds: number): number {
    return this.q.pruneJtis.run(nowSeconds).changes;
  }

  listLabels(): Label[] {
    return this.q.labels.all().map((row) => ({ name: row.name, kind: row.kind, description: row.description }));
  }

  addLabel(label: Label, origin: AuditOrigin): Label {
    return this.db
      .transaction(() => {
        if (this.q.label.get(label.name)) throw new ConflictError(`Label ${label.name} already exists`);
        const at = this.now();
        this.q.insertLabel.run(label.name, label.kind, label.description, at);
        this.audit.appender(origin).append('taxonomy.add', label.name, { kind: label.kind, description: label.description }, at);
        return { ...label };
      })
      .immediate();
  }

  private mustGetMember(id: string): Member {
    const member = this.getMember(id);
    if (!member) throw new NotFoundError(`No member ${id}`);
    return member;
  }

  private usableAdmins(): number {
    return this.q.usableAdmins.get()?.n ?? 0;
  }

  /** Inside a transaction: refuses a change that takes the last active admin with a key away. */
  private assertAdminsRemain(before: number): void {
    if (before > 0 && this.usableAdmins() === 0) {
      throw new ConflictError('This change would leave no active admin member with an active key');
    }
  }
}
