/**
 * SQLite persistence of members, their keys and the label taxonomy. Each
 * change appends its audit entry in the same immediate transaction. Guards against locking the
 * operators out: the last active admin cannot be suspended, demoted or left without a key.
 *
 * `getMember` and `getKey` (read by every signed request) answer from a small cache of the rows
 * as last read, valid only while nothing changed them: every change this repository makes to a
 * member or key drops the cache, and so does any commit by another connection or process, which
 * SQLite reports by changing `PRAGMA data_version` (checked on every call; ~2 µs instead of a
 * row read and its JSON). A revocation or suspension is therefore seen by the very next call,
 * whoever made it. Only rows that exist are cached, so the cache never outgrows the tables.
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

// Frozen: the cached objects are handed to every caller.
const toMember = (row: MemberRow): Member =>
  Object.freeze({
    id: row.id,
    name: row.name,
    roles: Object.freeze(JSON.parse(row.roles) as Role[]) as Role[],
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });

const toKey = (row: KeyRow): MemberKey =>
  Object.freeze({
    kid: row.kid,
    memberId: row.member_id,
    alg: row.alg,
    publicJwk: Object.freeze(JSON.parse(row.public_jwk) as JWK),
    thumbprint: row.thumbprint,
    status: row.status,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  });

export class SqliteMembers {
  private readonly q;
  private readonly cachedMembers = new Map<string, Member>();
  private readonly cachedKeys = new Map<string, MemberKey>();
  /** `PRAGMA data_version` when the cache was last known valid. */
  private cachedDataVersion = -1;

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
      dataVersion: db.prepare<[], number>('PRAGMA data_version').pluck(),
      keyByThumbprint: db.prepare<[string], KeyRow>('SELECT * FROM member_keys WHERE thumbprint = ?'),
      keys: db.prepare<[string], KeyRow>('SELECT * FROM member_keys WHERE member_id = ? ORDER BY created_at, kid'),
      insertKey: db.prepare(
        "INSERT INTO member_keys (kid, member_id, alg, public_jwk, thumbprint, status, created_at) VALUES (?, ?, ?, ?, ?, 'active', ?)",
      ),
      revokeKey: db.prepare("UPDATE member_keys SET status = 'revoked', revoked_at = ? WHERE kid = ?"),
      labels: db.prepare<[], LabelRow>("SELECT name, kind, description FROM labels ORDER BY kind = 'modifier', name"),
      label: db.prepare<[string], LabelRow>('SELECT name, kind, description FROM labels WHERE name = ?'),
      insertLabel: db.prepare('INSERT INTO labels (name, kind, description, created_at) VALUES (?, ?, ?, ?)'),
    };
  }

  createMember(member: NewMember, origin: AuditOrigin): Member {
    return this.changingMembers(() => {
      if (this.q.member.get(member.id)) throw new ConflictError(`Member ${member.id} already exists`);
      const at = this.now();
      this.q.insertMember.run(member.id, member.name, JSON.stringify(member.roles), 'active', at, at);
      this.audit.appender(origin).append('member.create', member.id, { name: member.name, roles: member.roles }, at);
      return this.mustGetMember(member.id);
    });
  }

  updateMember(id: string, patch: MemberPatch, origin: AuditOrigin): Member {
    return this.changingMembers(() => {
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
    });
  }

  getMember(id: string): Member | undefined {
    this.dropCacheIfChanged();
    const cached = this.cachedMembers.get(id);
    if (cached) return cached;
    const row = this.q.member.get(id);
    if (!row) return undefined;
    const member = toMember(row);
    this.cachedMembers.set(id, member);
    return member;
  }

  listMembers(): Member[] {
    return this.q.members.all().map(toMember);
  }

  addKey(memberId: string, key: NewKey, origin: AuditOrigin): MemberKey {
    return this.changingMembers(() => {
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
    });
  }

  revokeKey(memberId: string, kid: string, origin: AuditOrigin): MemberKey {
    return this.changingMembers(() => {
      const row = this.q.key.get(kid);
      if (!row || row.member_id !== memberId) throw new NotFoundError(`Member ${memberId} has no key ${kid}`);
      if (row.status === 'revoked') return toKey(row);
      const at = this.now();
      const adminsBefore = this.usableAdmins();
      this.q.revokeKey.run(at, kid);
      this.assertAdminsRemain(adminsBefore);
      this.audit.appender(origin).append('key.revoke', kid, { member: memberId }, at);
      return toKey(this.q.key.get(kid)!);
    });
  }

  getKey(kid: string): MemberKey | undefined {
    this.dropCacheIfChanged();
    const cached = this.cachedKeys.get(kid);
    if (cached) return cached;
    const row = this.q.key.get(kid);
    if (!row) return undefined;
    const key = toKey(row);
    this.cachedKeys.set(kid, key);
    return key;
  }

  listKeys(memberId: string): MemberKey[] {
    this.mustGetMember(memberId);
    return this.q.keys.all(memberId).map(toKey);
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

  /** Runs a change to members or keys in an immediate transaction, then drops the cache whatever the outcome. */
  private changingMembers<T>(change: () => T): T {
    try {
      return this.db.transaction(change).immediate();
    } finally {
      this.dropCache();
    }
  }

  /** Drops the cache when another connection (or process) committed since it was last checked. */
  private dropCacheIfChanged(): void {
    const version = this.q.dataVersion.get()!;
    if (version === this.cachedDataVersion) return;
    this.dropCache();
    this.cachedDataVersion = version;
  }

  private dropCache(): void {
    this.cachedMembers.clear();
    this.cachedKeys.clear();
  }

  /** The member row as it is now (inside a change too), never from the cache. */
  private mustGetMember(id: string): Member {
    const row = this.q.member.get(id);
    if (!row) throw new NotFoundError(`No member ${id}`);
    return toMember(row);
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
