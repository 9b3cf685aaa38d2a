/**
 * The SQLite engine of the `Store` contract (better-sqlite3): opens the file, checks and applies
 * the migrations, and exposes the members and signals repositories behind the async interface a
 * networked engine would also offer. better-sqlite3 is synchronous and every method is one
 * immediate transaction, so calls never interleave inside a transaction.
 *
 * Every method that may write takes its turn (`writes`, src/store/sqlite/write-turns.ts), in call
 * order. With `submitWriter` (the service), submissions are committed by a worker thread on its
 * own connection (src/store/sqlite/submit-writer.ts) while this thread goes on; the turns keep
 * the two connections from ever waiting on each other's lock. Reads never wait for a turn.
 */
import { InputError, type OperationError } from '../../errors.js';
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
import { fromWireChunks, SqliteAuditLog, type WireHashedChunks } from './sqlite-audit.js';
import { SqliteAuditReport } from './sqlite-audit-report.js';
import { SqliteMembers } from './sqlite-members.js';
import { SqliteSignals } from './sqlite-signals.js';
import { SqliteUsedJtis } from './sqlite-used-jtis.js';
import { SubmitWriter } from './submit-writer.js';
import { WriteTurns } from './write-turns.js';

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
  /**
   * Commit submissions on a worker thread with its own connection (the service sets it); ignored
   * for `:memory:`, which one connection alone can see.
   */
  readonly submitWriter?: boolean;
  /** Called once if the submit writer's thread dies (submissions then fail until a restart). */
  readonly onSubmitWriterFailure?: (error: OperationError) => void;
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
  /** The turn of every write to the file, from this connection or the submit writer's. */
  readonly writes = new WriteTurns();
  private writer: SubmitWriter | undefined;
  private closed = false;

  private constructor(
    db: SqliteDatabase,
    schemaVersion: number,
    private readonly clock: () => number,
    appendAuditEntries: boolean,
    appendChanges: boolean,
  ) {
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
      const appendAuditEntries = options.appendAuditEntries ?? true;
      const appendChanges = options.appendChanges ?? true;
      const store = new SqliteStore(db, version, options.clock ?? Date.now, appendAuditEntries, appendChanges);
      store.audit.catchUp();
      if (options.submitWriter === true && options.path !== ':memory:') {
        const autoCheckpointPages = db.pragma('wal_autocheckpoint', { simple: true }) as number;
        store.writer = SubmitWriter.start({ dbPath: db.name, autoCheckpointPages, appendAuditEntries, appendChanges }, options.onSubmitWriterFailure);
      }
      return store;
    } catch (error) {
      db.close();
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writes.drain();
    await this.writer?.stop();
    this.db.close();
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  /** Why submissions can no longer be committed (the submit writer's thread died), if so. */
  get submitWriterFailure(): OperationError | undefined {
    return this.writer?.failed;
  }

  /**
   * Records audit tree rows hashed by the upkeep worker (src/store/sqlite/background-upkeep.ts),
   * in their turn: on the submit writer's connection when there is one — so recording them never
   * stops the writer being handed the next batch — else on this one. Answers false when they
   * would leave a gap (the worker then hashes again from what the tree holds).
   */
  async recordAuditChunks(chunks: WireHashedChunks): Promise<boolean> {
    if (this.closed) return true;
    const writer = this.writer;
    // Tree rows are derived from committed entries: without a writer, this connection records them.
    if (writer && !writer.failed) return this.writes.handedToWriter(() => writer.recordAuditChunks(chunks));
    return this.writes.onThisConnection(() => this.audit.recordChunksNow(fromWireChunks(chunks)));
  }

  /** Sets `wal_autocheckpoint` (pages; 0 turns it off) on every connection this store writes with. */
  setAutoCheckpoint(pages: number): void {
    if (this.closed) return;
    this.db.pragma(`wal_autocheckpoint = ${pages}`);
    this.writer?.setAutoCheckpoint(pages);
  }

  async createMember(member: NewMember, origin: AuditOrigin): Promise<Member> {
    return this.writes.onThisConnection(() => this.members.createMember(member, origin));
  }
  async updateMember(id: string, patch: MemberPatch, origin: AuditOrigin): Promise<Member> {
    return this.writes.onThisConnection(() => this.members.updateMember(id, patch, origin));
  }
  async getMember(id: string): Promise<Member | undefined> {
    return this.members.getMember(id);
  }
  async listMembers(): Promise<Member[]> {
    return this.members.listMembers();
  }

  async addKey(memberId: string, key: NewKey, origin: AuditOrigin): Promise<MemberKey> {
    return this.writes.onThisConnection(() => this.members.addKey(memberId, key, origin));
  }
  async revokeKey(memberId: string, kid: string, origin: AuditOrigin): Promise<MemberKey> {
    return this.writes.onThisConnection(() => this.members.revokeKey(memberId, kid, origin));
  }
  async getKey(kid: string): Promise<MemberKey | undefined> {
    return this.members.getKey(kid);
  }
  async listKeys(memberId: string): Promise<MemberKey[]> {
    return this.members.listKeys(memberId);
  }

  async consumeJti(memberId: string, jti: string, expiresAtSeconds: number): Promise<boolean> {
    return this.writes.onThisConnection(() => this.usedJtis.consume(memberId, jti, expiresAtSeconds));
  }
  async isJtiUsed(memberId: string, jti: string): Promise<boolean> {
    return this.usedJtis.isUsed(memberId, jti);
  }
  async pruneJtis(nowSeconds: number): Promise<number> {
    return this.writes.onThisConnection(() => this.usedJtis.prune(nowSeconds));
  }

  async listLabels(): Promise<Label[]> {
    return this.members.listLabels();
  }
  async addLabel(label: Label, origin: AuditOrigin): Promise<Label> {
    return this.writes.onThisConnection(() => this.members.addLabel(label, origin));
  }

  async submitSignals(memberId: string, items: readonly SubmissionInput[], origin: AuditOrigin): Promise<SubmitOutcome[]> {
    const writer = this.writer;
    if (!writer) return this.writes.onThisConnection(() => this.signals.submit(memberId, items, origin));
    // The clock is read when the batch is handed over: after every change on this connection
    // asked for before it, and before any asked for after it, so entry times still follow `seq`.
    return this.writes.handedToWriter(() => writer.submit(memberId, items, origin, this.clock()));
  }
  async retractSubmission(memberId: string, signalId: string, origin: AuditOrigin): Promise<SignalChange> {
    return this.writes.onThisConnection(() => this.signals.retract(memberId, signalId, origin));
  }
  async setOpinion(memberId: string, signalId: string, opinion: OpinionInput, origin: AuditOrigin): Promise<SignalChange> {
    return this.writes.onThisConnection(() => this.signals.setOpinion(memberId, signalId, opinion, origin));
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
  // The tree's reads catch up first: they may record chunks, so they take a write's turn. The
  // head (read every second by the checkpoint publisher) is read without recording when it can.
  async auditTreeHead(): Promise<TreeHead> {
    return this.audit.headWithoutRecording() ?? this.writes.onThisConnection(() => this.audit.head());
  }
  async auditRootAt(treeSize: number): Promise<string> {
    return this.writes.onThisConnection(() => this.audit.rootAt(treeSize));
  }
  async auditLeaves(afterSeq: number, limit: number): Promise<{ seq: number; hash: string }[]> {
    return this.writes.onThisConnection(() => this.audit.leaves(afterSeq, limit));
  }
  async auditInclusionProof(seq: number, treeSize: number): Promise<{ leafHash: string; proof: string[] }> {
    return this.writes.onThisConnection(() => this.audit.inclusionProof(seq, treeSize));
  }
  async auditConsistencyProof(from: number, to: number): Promise<string[]> {
    return this.writes.onThisConnection(() => this.audit.consistencyProof(from, to));
  }
  async saveCheckpoint(checkpoint: Checkpoint): Promise<void> {
    await this.writes.onThisConnection(() => this.audit.saveCheckpoint(checkpoint));
  }
  async latestCheckpoint(): Promise<Checkpoint | undefined> {
    return this.audit.latestCheckpoint();
  }
  async listLogKeys(): Promise<LogKeyRecord[]> {
    return this.audit.logKeys();
  }
  async addLogKey(key: LogKeyRecord): Promise<void> {
    await this.writes.onThisConnection(() => this.audit.addLogKey(key));
  }
  async addMatchCounts(counts: readonly MatchCount[]): Promise<void> {
    await this.writes.onThisConnection(() => this.report.addMatchCounts(counts));
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
