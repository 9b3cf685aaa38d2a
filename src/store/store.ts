/**
 * The `Store` contract: everything the bank persists — members and keys, the replay guard,
 * the taxonomy, signals with their submissions and opinions, and the audit entry that every
 * state change appends in the same transaction. Routes and the bank talk to this interface
 * only, so a second engine (PostgreSQL) can be added without touching them; one contract test
 * suite (test/store/store-contract.ts) runs against every engine.
 *
 *   content ─► hash ─► submit ─► [Store: signals, submissions, audit] ─► index ─► match
 *
 * Inputs are validated before they reach the store (signal types, labels, schemas); the store
 * enforces state rules (one active submission per member and signal, the status rule, the last
 * active admin) and answers with coded errors. Every method is atomic.
 */
import type { AuditEntry } from '../audit/audit-entry.js';
import type { JWK } from 'jose';
import type { Label } from '../signals/labels.js';
import type { SignalStatus } from '../signals/signal-status.js';
import type { SignalTypeName } from '../signals/signal-type.js';

export const ROLES = ['submitter', 'matcher', 'sync', 'auditor', 'admin'] as const;
export type Role = (typeof ROLES)[number];
export type MemberStatus = 'active' | 'suspended';
export type KeyAlgorithm = 'EdDSA' | 'ES256';
export type Media = 'image' | 'video';
export type Verdict = 'confirm' | 'false_positive' | 'dispute_labels';

export interface Member {
  readonly id: string;
  readonly name: string;
  readonly roles: readonly Role[];
  readonly status: MemberStatus;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface NewMember {
  readonly id: string;
  readonly name: string;
  readonly roles: readonly Role[];
}

export interface MemberPatch {
  readonly name?: string | undefined;
  readonly roles?: readonly Role[] | undefined;
  readonly status?: MemberStatus | undefined;
}

export interface MemberKey {
  readonly kid: string;
  readonly memberId: string;
  readonly alg: KeyAlgorithm;
  readonly publicJwk: JWK;
  readonly thumbprint: string;
  readonly status: 'active' | 'revoked';
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

export interface NewKey {
  /** The JWK's own `kid`, used when present and not taken. */
  readonly preferredKid: string | undefined;
  readonly alg: KeyAlgorithm;
  readonly publicJwk: JWK;
  /** RFC 7638 thumbprint; also the assigned `kid` when none is preferred or it is taken. */
  readonly thumbprint: string;
}

/** Who made a change and with which signed request: recorded in its audit entry. */
export interface AuditOrigin {
  readonly actor: string;
  readonly kid: string | null;
  /** The request's compact JWS; null for local operator actions such as `init`. */
  readonly proof: string | null;
  /**
   * The request's `jti`, to be recorded as used in the transaction of the request's first audit
   * entry (see `RouteSpec.jtiWithChange`); absent where it was recorded before the request ran.
   */
  readonly jti?: RequestJti;
}

/** A request's `jti`, kept as used until `expiresAtSeconds` so that the request cannot be replayed (SPEC §3). */
export interface RequestJti {
  readonly memberId: string;
  readonly jti: string;
  readonly expiresAtSeconds: number;
}

export interface OpinionCounts {
  readonly confirm: number;
  readonly falsePositive: number;
  readonly disputeLabels: number;
}

/** A signal as the bank holds it. `rowId` is internal (the index id) and never leaves the service. */
export interface SignalRecord {
  readonly rowId: number;
  readonly id: string;
  readonly type: SignalTypeName;
  readonly hash: string;
  readonly media: Media;
  readonly labels: readonly string[];
  readonly submitters: number;
  readonly opinions: OpinionCounts;
  readonly status: SignalStatus;
  readonly firstSeen: string;
  readonly updatedAt: string;
}

/** The caller's own part in a signal (`mine`): never another member's. */
export interface OwnPart {
  readonly submission?: {
    readonly status: 'active' | 'retracted';
    readonly labels: readonly string[];
    readonly media: Media;
    readonly quality?: number;
    readonly ref?: string;
    readonly submittedAt: string;
    readonly updatedAt: string;
  };
  readonly opinion?: {
    readonly verdict: Verdict;
    readonly labels?: readonly string[];
    readonly reason?: string;
    readonly updatedAt: string;
  };
}

export interface SignalWithOwnPart {
  readonly signal: SignalRecord;
  readonly mine: OwnPart | undefined;
}

/** One validated submission item. */
export interface SubmissionInput {
  readonly type: SignalTypeName;
  /** Normalised lower-case hex. */
  readonly hash: string;
  /** Validated against the taxonomy, unique, sorted. */
  readonly labels: readonly string[];
  readonly media: Media;
  readonly quality?: number;
  readonly ref?: string;
}

export type SubmitStatus = 'created' | 'added' | 'updated' | 'unchanged';

/** A signal whose state changed, with its status before (null when it was just created). */
export interface SignalChange {
  readonly signal: SignalRecord;
  readonly previousStatus: SignalStatus | null;
}

export interface SubmitOutcome extends SignalChange {
  readonly status: SubmitStatus;
}

export interface OpinionInput {
  readonly verdict: Verdict;
  readonly labels?: readonly string[];
  readonly reason?: string;
}

/**
 * One row of the change feed (SPEC §5): every state change of a signal, in commit order. `signal`
 * is the JSON text of the signal as it was after the change — the public form for an `upsert`,
 * `{id, type, hash}` for a `delete` — stored with the change so the feed serves it verbatim.
 */
export interface ChangeRow {
  readonly seq: number;
  readonly op: 'upsert' | 'delete';
  readonly at: string;
  readonly signal: string;
}

export type { AuditEntry };

export interface AuditEntryFilter {
  /** Entries with `seq > after` (a cursor). */
  readonly after?: number | undefined;
  readonly limit: number;
  readonly member?: string | undefined;
  readonly action?: string | undefined;
  /** RFC 3339; entries at or after. */
  readonly since?: string | undefined;
  /** RFC 3339; entries before. */
  readonly until?: string | undefined;
  /** Entries with `seq <= maxSeq` (an export stops at its checkpoint). */
  readonly maxSeq?: number | undefined;
}

/** The size and root (hex) of the Merkle tree over the audit entries. */
export interface TreeHead {
  readonly treeSize: number;
  readonly rootHash: string;
}

/** A signed tree head (SPEC §5): `signature` is a compact JWS over the canonical JSON of the other fields. */
export interface Checkpoint extends TreeHead {
  readonly timestamp: string;
  readonly signature: string;
}

export interface LogKeyRecord {
  readonly kid: string;
  readonly publicJwk: JWK;
  readonly createdAt: string;
}

/** Match requests served for one member in one hour (query hashes are never kept). */
export interface MatchCount {
  readonly memberId: string;
  /** RFC 3339, truncated to the hour. */
  readonly hour: string;
  readonly queries: number;
  readonly hits: number;
}

/** Transparency-report figures for a time window (issue 5). */
export interface AuditReport {
  readonly since: string | null;
  readonly until: string | null;
  readonly signals: {
    readonly created: readonly { type: string; label: string; count: number }[];
    readonly retracted: readonly { type: string; label: string; count: number }[];
    readonly disputed: readonly { type: string; label: string; count: number }[];
  };
  readonly submissions: readonly { member: string; submitted: number; retracted: number }[];
  readonly opinions: readonly { verdict: string; count: number }[];
  readonly matches: readonly { member: string; queries: number; hits: number }[];
  readonly membership: readonly { seq: number; at: string; actor: string; action: string; subject: string }[];
}

/** A batch of index entries for one signal type: ids and their packed 32-byte hashes. */
export interface IndexEntryBatch {
  readonly ids: Uint32Array;
  readonly hashes: Uint8Array;
  /** Row ids in this batch whose signal is disputed. */
  readonly disputed: readonly number[];
}

/**
 * The bank's persistence. Every change commits in the order its method was called, even when
 * an earlier call's promise settles later (the bank applies outcomes to its index in that order).
 */
export interface Store {
  readonly engine: string;
  close(): Promise<void>;
  /** Readiness: the database answers and its schema is current. */
  ping(): Promise<void>;

  createMember(member: NewMember, origin: AuditOrigin): Promise<Member>;
  updateMember(id: string, patch: MemberPatch, origin: AuditOrigin): Promise<Member>;
  getMember(id: string): Promise<Member | undefined>;
  listMembers(): Promise<Member[]>;

  addKey(memberId: string, key: NewKey, origin: AuditOrigin): Promise<MemberKey>;
  revokeKey(memberId: string, kid: string, origin: AuditOrigin): Promise<MemberKey>;
  getKey(kid: string): Promise<MemberKey | undefined>;
  listKeys(memberId: string): Promise<MemberKey[]>;

  /** Records a request's `jti`; answers false when this member already used it. */
  consumeJti(memberId: string, jti: string, expiresAtSeconds: number): Promise<boolean>;
  /** True when this member's `jti` is recorded as used (by `consumeJti` or with an audit entry). */
  isJtiUsed(memberId: string, jti: string): Promise<boolean>;
  /** Forgets `jti`s that expired before `nowSeconds`; answers how many. */
  pruneJtis(nowSeconds: number): Promise<number>;

  listLabels(): Promise<Label[]>;
  addLabel(label: Label, origin: AuditOrigin): Promise<Label>;

  /** Applies a batch of validated submissions in one transaction, one outcome per item. */
  submitSignals(memberId: string, items: readonly SubmissionInput[], origin: AuditOrigin): Promise<SubmitOutcome[]>;
  /** Ends the member's active submission; `ERR_NOT_FOUND` when there is none. */
  retractSubmission(memberId: string, signalId: string, origin: AuditOrigin): Promise<SignalChange>;
  /** Sets the member's opinion; `ERR_CONFLICT` when the member actively submitted the signal. */
  setOpinion(memberId: string, signalId: string, opinion: OpinionInput, origin: AuditOrigin): Promise<SignalChange>;

  getSignal(signalId: string, viewer: string | undefined): Promise<SignalWithOwnPart | undefined>;
  findSignal(type: SignalTypeName, hash: string, viewer: string | undefined): Promise<SignalWithOwnPart | undefined>;
  /** Signals by internal row id (the index ids), for match answers. Missing ids are absent. */
  getSignalsByRowIds(rowIds: readonly number[]): Promise<Map<number, SignalRecord>>;
  /** Change-feed rows with `seq > after`, oldest first, at most `limit`. */
  listChanges(after: number, limit: number): Promise<ChangeRow[]>;
  /** The newest change's `seq` (0 when there is none). */
  lastChangeSeq(): Promise<number>;
  /** Audit entries matching the filter, oldest first. */
  listAuditEntries(filter: AuditEntryFilter): Promise<AuditEntry[]>;
  auditTreeHead(): Promise<TreeHead>;
  /** The root (hex) of the tree of the first `treeSize` entries. */
  auditRootAt(treeSize: number): Promise<string>;
  /** Stored leaf hashes (hex) of entries with `seq > afterSeq`. */
  auditLeaves(afterSeq: number, limit: number): Promise<{ seq: number; hash: string }[]>;
  auditInclusionProof(seq: number, treeSize: number): Promise<{ leafHash: string; proof: string[] }>;
  auditConsistencyProof(from: number, to: number): Promise<string[]>;
  saveCheckpoint(checkpoint: Checkpoint): Promise<void>;
  latestCheckpoint(): Promise<Checkpoint | undefined>;
  listLogKeys(): Promise<LogKeyRecord[]>;
  addLogKey(key: LogKeyRecord): Promise<void>;
  addMatchCounts(counts: readonly MatchCount[]): Promise<void>;
  auditReport(since: string | undefined, until: string | undefined): Promise<AuditReport>;

  /** Every not-retracted signal of a 256-bit type, in batches, to build the index at start. */
  indexEntries(type: SignalTypeName, batchSize?: number): AsyncIterable<IndexEntryBatch>;
}
