/**
 * The SQLite engine of the `Store` contract (better-sqlite3): opens the file, checks and applies
 * the migrations, and exposes the members and signals repositories behind the async interface a
 * networked engine would also offer. better-sqlite3 is synchronous and every method is one
 * immediate transaction, so calls never interleave inside a transaction.
 */
import { InputError } from '../../errors.js';
import type { Label } from '../../signals/labels.js';
import { SIGNAL_TYPES } from '../../signals/registry.js';
import type { SignalTypeName } from '../../signals/signal-type.js';
import type {
  AuditEntry,
  AuditEntryFilter,
  AuditOrigin,
  AuditReport,
  ChangeRow,
  Checkpoint,
  LogKeyRecord,
  MatchCount,
  TreeHead,
  IndexEntryBatch,
  Member,
  MemberKey,
  MemberPatch,
  NewKey,
  NewMember,
  OpinionInput,
  SignalChange,
  SignalRecord,
  SignalWithOwnPart,
  Store,
  SubmissionInput,
  SubmitOutcome,
} from '../store.js';
import { openDatabase, type SqliteDatabase } from './database.js';
import { migrate, readMigrations } from './migrations.js';
import { SqliteAuditLog } from './sqlite-audit.js';
import { SqliteAuditReport } from './sqlite-audit-report.js';
import { SqliteMembers } from './sqlite-members.js';
import { SqliteSignals } from './sqlite-signals.js';
import { SqliteUsedJtis } from './sqlite-used-jtis.js';

export interface SqliteStoreOptions {
  /** Database file, or `:memory:`. */
  readonly path: string;
  /** Apply pending migrations (true for `init` and the service); otherwise refuse an old schema. */
  readonly migrate?: boolean;
  /** Milliseconds since the epoch; tests freeze it. */
  readonly clock?: () => number;
  /**
   * Benchmarks only (`bench/audit.ts` measures what the signal log costs): false appends no audit
   * entries at all. Never set by the service.
   */
  readonly appendAuditEntries?: boolean;
  /** Benchmarks only (`bench/sync.ts` measures what the change feed costs): false writes no feed rows. Never set by the service. */
  readonly appendChanges?: boolean;
}

export class SqliteStore implements Store {
  readonly engine = 'sqlite';
  readonly db: SqliteDatabase;
  readonly schemaVersion: number;
  private readonly audit: SqliteAuditLog;
  private readonly report: SqliteAuditReport;
  private readonly members: SqliteMembers;
  private readonly signals: SqliteSignals;
  private readonly usedJtis: SqliteUsedJtis;
  private closed = false;

  private constructor(db: SqliteDatabase, schemaVersion: number, clock: () => number, appendAuditEntries: boolean, appendChanges: boolean) {
    this.db = db;
    this.schemaVersion = schemaVersion;
    const now = (): string => new Date(clock()).toISOString();
    this.audit = new SqliteAuditLog(db, appendAuditEntries);
    this.report = new SqliteAuditReport(db);
    this.members = new SqliteMembers(db, this.audit, now);
    this.signals = new SqliteSignals(db, this.audit, now, appendChanges);
    this.usedJtis = new SqliteUsedJtis(db);
  }

  static open(options: SqliteStoreOptions): SqliteStore {
    const db = openDatabase(options.path);
    try {
      const { version } = migrate(db, readMigrations(), options.migrate ?? true);
      const store = new SqliteStore(db, version, options.clock ?? Date.now, options.appendAuditEntries ?? true, options.appendChanges ?? true);
      store.audit.catchUp();
      return store;
    } catch (error) {
      db.close();
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  async createMember(member: NewMember, origin: AuditOrigin): Promise<Member> {
    return this.members.createMember(member, origin);
  }
  async updateMember(id: string, patch: MemberPatch, origin: AuditOrigin): Promise<Member> {
    return this.members.updateMember(id, patch, origin);
  }
  async getMember(id: string): Promise<Member | undefined> {
    return this.members.getMember(id);
  }
  async listMembers(): Promise<Member[]> {
    return this.members.listMembers();
  }

  async addKey(memberId: string, key: NewKey, origin: AuditOrigin): Promise<MemberKey> {
    return this.members.addKey(memberId, key, origin);
  }
  async revokeKey(memberId: string, kid: string, origin: AuditOrigin): Promise<MemberKey> {
    return this.members.revokeKey(memberId, kid, origin);
  }
  async getKey(kid: string): Promise<MemberKey | undefined> {
    return this.members.getKey(kid);
  }
  async listKeys(memberId: string): Promise<MemberKey[]> {
    return this.members.listKeys(memberId);
  }

  async consumeJti(memberId: string, jti: string, expiresAtSeconds: number): Promise<boolean> {
    return this.usedJtis.consume(memberId, jti, expiresAtSeconds);
  }
  async isJtiUsed(memberId: string, jti: string): Promise<boolean> {
    return this.usedJtis.isUsed(memberId, jti);
  }
  async pruneJtis(nowSeconds: number): Promise<number> {
    return this.usedJtis.prune(nowSeconds);
  }

  async listLabels(): Promise<Label[]> {
    return this.members.listLabels();
  }
  async addLabel(label: Label, origin: AuditOrigin): Promise<Label> {
    return this.members.addLabel(label, origin);
  }

  async submitSignals(memberId: string, items: readonly SubmissionInput[], origin: AuditOrigin): Promise<SubmitOutcome[]> {
    return this.signals.submit(memberId, items, origin);
  }
  async retractSubmission(memberId: string, signalId: string, origin: AuditOrigin): Promise<SignalChange> {
    return this.signals.retract(memberId, signalId, origin);
  }
  async setOpinion(memberId: string, signalId: string, opinion: OpinionInput, origin: AuditOrigin): Promise<SignalChange> {
    return this.signals.setOpinion(memberId, signalId, opinion, origin);
  }

  async getSignal(signalId: string, viewer: string | undefined): Promise<SignalWithOwnPart | undefined> {
    return this.signals.get(signalId, viewer);
  }
  async findSignal(type: SignalTypeName, hash: string, viewer: string | undefined): Promise<SignalWithOwnPart | undefined> {
    return this.signals.find(type, hash, viewer);
  }
  async getSignalsByRowIds(rowIds: readonly number[]): Promise<Map<number, SignalRecord>> {
    return this.signals.byRowIds(rowIds);
  }

  async listChanges(after: number, limit: number): Promise<ChangeRow[]> {
    return this.signals.changes(after, limit);
  }
  async lastChangeSeq(): Promise<number> {
    return this.signals.lastChangeSeq();
  }

  async listAuditEntries(filter: AuditEntryFilter): Promise<AuditEntry[]> {
    return this.audit.list(filter);
  }
  async auditTreeHead(): Promise<TreeHead> {
    return this.audit.head();
  }
  async auditRootAt(treeSize: number): Promise<string> {
    return this.audit.rootAt(treeSize);
  }
  async auditLeaves(afterSeq: number, limit: number): Promise<{ seq: number; hash: string }[]> {
    return this.audit.leaves(afterSeq, limit);
  }
  async auditInclusionProof(seq: number, treeSize: number): Promise<{ leafHash: string; proof: string[] }> {
    return this.audit.inclusionProof(seq, treeSize);
  }
  async auditConsistencyProof(from: number, to: number): Promise<string[]> {
    return this.audit.consistencyProof(from, to);
  }
  async saveCheckpoint(checkpoint: Checkpoint): Promise<void> {
    this.audit.saveCheckpoint(checkpoint);
  }
  async latestCheckpoint(): Promise<Checkpoint | undefined> {
    return this.audit.latestCheckpoint();
  }
  async listLogKeys(): Promise<LogKeyRecord[]> {
    return this.audit.logKeys();
  }
  async addLogKey(key: LogKeyRecord): Promise<void> {
    this.audit.addLogKey(key);
  }
  async addMatchCounts(counts: readonly MatchCount[]): Promise<void> {
    this.report.addMatchCounts(counts);
  }
  async auditReport(since: string | undefined, until: string | undefined): Promise<AuditReport> {
    return this.report.report(since, until);
  }

  async *indexEntries(type: SignalTypeName, batchSize = 65_536): AsyncIterable<IndexEntryBatch> {
    if (SIGNAL_TYPES[type].bits !== 256 || SIGNAL_TYPES[type].kind !== 'perceptual') {
      throw new InputError('ERR_UNKNOWN_TYPE', `Only 256-bit perceptual types are indexed, not ${type}`);
    }
    yield* this.signals.indexEntries(type, batchSize);
  }
}
