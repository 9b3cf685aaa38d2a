/**
 * The signal log in SQLite (SPEC §5). Audit entries `{seq, at, actor, kid, action, subject, data,
 * proof}` are appended inside the caller's transaction — a change and its entry commit together;
 * a request's JWS is stored once however many entries it made, and its `jti` is recorded as used
 * with the first of them (one commit per request instead of two).
 *
 * The RFC 6962 tree over the entries (leaf = SHA-256(0x00 ‖ RFC 8785 canonical JSON of the entry
 * as served)) is recorded by `catchUp`, incrementally and in order: the leaf hashes of each
 * complete run of 16 entries in one chunk row, and every perfect subtree of 16 leaves or more as
 * it completes — from a frontier, never a rebuild, one row per 16 entries. Hashing (`hashChunks`)
 * only reads, so the upkeep worker (src/store/sqlite/upkeep-worker.ts) does it on the other core
 * moments after commits and hands the rows to the service's connection to record
 * (`recordChunks`): one writer, no lock contention. Every read of the tree catches up first
 * (`catchUp`) and composes the last, incomplete chunk from its entries, so heads and proofs
 * always cover every committed entry. Entries, chunks, subtrees and checkpoints refuse UPDATE and
 * DELETE.
 */
import { canonicalEntryJson } from '../../audit/canonical-json.js';
import {
  consistencyProof,
  frontierPositions,
  inclusionProof,
  leafHash,
  MerkleFrontier,
  nodeHash,
  rangeHash,
  type Digest,
  type SubtreeNode,
} from '../../audit/merkle-tree.js';
import { AuthError, InputError, OperationError } from '../../errors.js';
import type { AuditEntry, AuditEntryFilter, AuditOrigin, Checkpoint, LogKeyRecord, TreeHead } from '../store.js';
import { withoutSync, type SqliteDatabase } from './database.js';
import { SqliteUsedJtis } from './sqlite-used-jtis.js';

export interface AuditAppender {
  append(action: string, subject: string, data: Record<string, unknown>, at: string): void;
}

interface EntryRow {
  seq: number;
  at: string;
  actor: string;
  kid: string | null;
  action: string;
  subject: string;
  data: string;
  proof: string | null;
}

const toEntry = (row: EntryRow): AuditEntry => ({ ...row, data: JSON.parse(row.data) as Record<string, unknown> });

/** The leaf hash of an entry: SHA-256(0x00 ‖ canonical JSON of the entry as served). */
export function auditLeafHash(entry: AuditEntry): Digest {
  return leafHash(canonicalEntryJson(entry));
}

/** Leaves per recorded chunk (a perfect subtree of level 4). */
const CHUNK_LEVEL = 4;
const CHUNK = 2 ** CHUNK_LEVEL;
/** Chunks recorded per write transaction by `catchUp`, so that other writers wait only briefly. */
const CATCH_UP_CHUNKS = 64;

/** Complete chunks hashed from committed entries, ready to be recorded (see `recordChunks`). */
export interface HashedChunks {
  /** Index of the first chunk. */
  readonly first: number;
  /** Per chunk, its 16 leaf hashes concatenated. */
  readonly leaves: readonly Buffer[];
  /** The perfect subtrees of 16 leaves or more that these chunks complete. */
  readonly nodes: readonly SubtreeNode[];
  /** The frontier of chunk roots after them. */
  readonly frontier: MerkleFrontier;
}

/** `HashedChunks` as they cross a thread boundary (a structured clone keeps no classes; buffers arrive as Uint8Arrays). */
export interface WireHashedChunks {
  readonly first: number;
  readonly leaves: readonly Uint8Array[];
  readonly nodes: readonly { readonly level: number; readonly index: number; readonly hash: Uint8Array }[];
  readonly frontier: { readonly size: number; readonly roots: readonly Uint8Array[] };
}

export function toWireChunks(hashed: HashedChunks): WireHashedChunks {
  return { first: hashed.first, leaves: hashed.leaves, nodes: hashed.nodes, frontier: { size: hashed.frontier.size, roots: hashed.frontier.subtreeRoots() } };
}

const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

export function fromWireChunks(wire: WireHashedChunks): HashedChunks {
  return {
    first: wire.first,
    leaves: wire.leaves.map(asBuffer),
    nodes: wire.nodes.map((node): SubtreeNode => ({ level: node.level, index: node.index, hash: asBuffer(node.hash) })),
    frontier: new MerkleFrontier(wire.frontier.size, wire.frontier.roots.map(asBuffer)),
  };
}

interface TreeView {
  readonly treeSize: number;
  /** The hash of the perfect subtree `index` at `level` (level 0: leaves). */
  readonly read: (level: number, index: number) => Digest;
}

function headOf(view: TreeView): TreeHead {
  const frontier = new MerkleFrontier(view.treeSize, frontierPositions(view.treeSize).map((p) => view.read(p.level, p.index)));
  return { treeSize: view.treeSize, rootHash: frontier.root().toString('hex') };
}

/** The root of a perfect subtree from its leaves (a power of two of them). */
function perfectRoot(leaves: readonly Digest[]): Digest {
  let level = [...leaves];
  while (level.length > 1) {
    const next: Digest[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(nodeHash(level[i]!, level[i + 1]!));
    level = next;
  }
  return level[0]!;
}

export class SqliteAuditLog {
  private readonly q;
  private readonly usedJtis: SqliteUsedJtis;
  /** The frontier of chunk roots at the number of chunks last seen; reloaded when another connection moved it. */
  private chunkFrontier: MerkleFrontier | undefined;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly enabled = true,
  ) {
    this.usedJtis = new SqliteUsedJtis(db);
    this.q = {
      insertProof: db.prepare<[string]>('INSERT INTO audit_proofs (jws) VALUES (?)'),
      insertEntry: db.prepare<[number, string, string, string | null, string, string, string, number | null]>(
        'INSERT INTO audit_entries (seq, at, actor, kid, action, subject, data, proof_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      maxSeq: db.prepare<[], { seq: number | null }>('SELECT max(seq) AS seq FROM audit_entries'),
      insertChunk: db.prepare<[number, Buffer]>('INSERT OR IGNORE INTO audit_leaf_chunks (chunk, leaves) VALUES (?, ?)'),
      chunk: db.prepare<[number], { leaves: Buffer }>('SELECT leaves FROM audit_leaf_chunks WHERE chunk = ?'),
      chunkCount: db.prepare<[], { n: number | null }>('SELECT max(chunk) + 1 AS n FROM audit_leaf_chunks'),
      insertNode: db.prepare<[number, number, Buffer]>('INSERT OR IGNORE INTO audit_tree_nodes (level, idx, hash) VALUES (?, ?, ?)'),
      node: db.prepare<[number, number], { hash: Buffer }>('SELECT hash FROM audit_tree_nodes WHERE level = ? AND idx = ?'),
      entriesAfter: db.prepare<[number, number], EntryRow>(`SELECT e.seq, e.at, e.actor, e.kid, e.action, e.subject, e.data, p.jws AS proof
        FROM audit_entries e LEFT JOIN audit_proofs p ON p.id = e.proof_id WHERE e.seq > ? ORDER BY e.seq LIMIT ?`),
      insertCheckpoint: db.prepare<[number, string, string, string]>('INSERT OR IGNORE INTO audit_checkpoints (tree_size, root_hash, timestamp, signature) VALUES (?, ?, ?, ?)'),
      latestCheckpoint: db.prepare<[], { tree_size: number; root_hash: string; timestamp: string; signature: string }>(
        'SELECT tree_size, root_hash, timestamp, signature FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1',
      ),
      logKeys: db.prepare<[], { kid: string; public_jwk: string; created_at: string }>('SELECT kid, public_jwk, created_at FROM log_keys ORDER BY created_at, kid'),
      insertLogKey: db.prepare<[string, string, string]>('INSERT OR IGNORE INTO log_keys (kid, public_jwk, created_at) VALUES (?, ?, ?)'),
    };
  }

  /**
   * An appender for one transaction on behalf of `origin`; call inside that transaction. The
   * first entry also records the origin's `jti` as used, so that the request's change and its
   * replay protection commit together; a `jti` already used refuses the whole transaction.
   */
  appender(origin: AuditOrigin): AuditAppender {
    let proofId: number | null | undefined;
    let seq: number | undefined;
    let jtiRecorded = origin.jti === undefined;
    return {
      append: (action, subject, data, at) => {
        if (!jtiRecorded) {
          const { memberId, jti, expiresAtSeconds } = origin.jti!;
          if (!this.usedJtis.consume(memberId, jti, expiresAtSeconds)) throw new AuthError('ERR_REPLAY', 'This jti was used before; every request needs a new one');
          jtiRecorded = true;
        }
        if (!this.enabled) return;
        if (proofId === undefined) proofId = origin.proof === null ? null : Number(this.q.insertProof.run(origin.proof).lastInsertRowid);
        seq = (seq ?? this.q.maxSeq.get()?.seq ?? 0) + 1;
        this.q.insertEntry.run(seq, at, origin.actor, origin.kid, action, subject, JSON.stringify(data), proofId);
      },
    };
  }

  /** Chunks recorded in the tree. */
  chunkCount(): number {
    return this.q.chunkCount.get()?.n ?? 0;
  }

  /** True when a whole chunk of entries after the first `chunks` chunks waits to be recorded. */
  isBehind(chunks = this.chunkCount()): boolean {
    return (this.q.maxSeq.get()?.seq ?? 0) >= (chunks + 1) * CHUNK;
  }

  /**
   * Hashes up to `maxChunks` complete chunks of committed entries after the first `chunks` ones,
   * continuing `frontier` (the chunk roots so far, which this leaves untouched). Reads only; the
   * answer is recorded by `recordChunks`, on this connection or another. Stops at a gap in the
   * entries: a log with a missing entry is left for `audit verify` to report, never papered over.
   */
  hashChunks(chunks: number, frontier: MerkleFrontier, maxChunks = CATCH_UP_CHUNKS): HashedChunks | undefined {
    const rows = this.q.entriesAfter.all(chunks * CHUNK, maxChunks * CHUNK);
    let contiguous = 0;
    while (contiguous < rows.length && rows[contiguous]!.seq === chunks * CHUNK + contiguous + 1) contiguous++;
    const complete = Math.floor(contiguous / CHUNK);
    if (complete === 0) return undefined;
    const next = frontier.clone();
    const leaves: Buffer[] = [];
    const nodes: SubtreeNode[] = [];
    for (let c = 0; c < complete; c++) {
      const chunkLeaves = rows.slice(c * CHUNK, (c + 1) * CHUNK).map((row) => auditLeafHash(toEntry(row)));
      leaves.push(Buffer.concat(chunkLeaves));
      for (const node of next.append(perfectRoot(chunkLeaves))) nodes.push({ level: node.level + CHUNK_LEVEL, index: node.index, hash: node.hash });
    }
    return { first: chunks, leaves, nodes, frontier: next };
  }

  /**
   * Records hashed chunks; call inside a write transaction. Chunks the tree already holds are
   * skipped (they are the same: the tree is a function of the entries). Answers false, recording
   * nothing, when they would leave a gap — the caller hashes again from `chunkCount()`.
   */
  recordChunks(hashed: HashedChunks): boolean {
    const chunks = this.chunkCount();
    if (hashed.first > chunks) return false;
    hashed.leaves.forEach((leaves, i) => {
      if (hashed.first + i >= chunks) this.q.insertChunk.run(hashed.first + i, leaves);
    });
    for (const node of hashed.nodes) this.q.insertNode.run(node.level, node.index, node.hash);
    this.chunkFrontier = hashed.frontier.clone();
    return true;
  }

  /**
   * Records hashed chunks in a transaction of their own that does not wait for the disk (the
   * tree is derived from entries that already did); answers false as `recordChunks` does.
   */
  recordChunksNow(hashed: HashedChunks): boolean {
    return withoutSync(this.db, () => this.db.transaction(() => this.recordChunks(hashed)).immediate());
  }

  /**
   * Records every complete chunk of entries the tree does not hold yet, in order, on this
   * connection; answers how many entries. Hashing happens outside the write transaction.
   */
  catchUp(): number {
    let added = 0;
    for (;;) {
      const chunks = this.chunkCount();
      const hashed = this.hashChunks(chunks, this.chunkFrontierAt(chunks));
      if (!hashed) return added;
      if (this.db.transaction(() => this.recordChunks(hashed)).immediate()) added += hashed.leaves.length * CHUNK;
      if (hashed.leaves.length < CATCH_UP_CHUNKS) return added;
    }
  }

  list(filter: AuditEntryFilter): AuditEntry[] {
    const where = ['e.seq > @after'];
    const params: Record<string, unknown> = { after: filter.after ?? 0, limit: filter.limit };
    if (filter.member !== undefined) {
      where.push('e.actor = @member');
      params['member'] = filter.member;
    }
    if (filter.action !== undefined) {
      where.push('e.action = @action');
      params['action'] = filter.action;
    }
    if (filter.since !== undefined) {
      where.push('e.at >= @since');
      params['since'] = filter.since;
    }
    if (filter.until !== undefined) {
      where.push('e.at < @until');
      params['until'] = filter.until;
    }
    if (filter.maxSeq !== undefined) {
      where.push('e.seq <= @maxSeq');
      params['maxSeq'] = filter.maxSeq;
    }
    const sql = `SELECT e.seq, e.at, e.actor, e.kid, e.action, e.subject, e.data, p.jws AS proof FROM audit_entries e
      LEFT JOIN audit_proofs p ON p.id = e.proof_id WHERE ${where.join(' AND ')} ORDER BY e.seq LIMIT @limit`;
    return this.db.prepare<[Record<string, unknown>], EntryRow>(sql).all(params).map(toEntry);
  }

  head(): TreeHead {
    return headOf(this.view());
  }

  /**
   * The head without recording anything — a pure read in one snapshot, so it needs no turn to
   * write — or undefined when too much waits to be recorded (then `head` catches up first).
   */
  headWithoutRecording(): TreeHead | undefined {
    const view = this.db.transaction(() => this.view(undefined, false))();
    return view && headOf(view);
  }

  /** Recorded leaf hashes of entries with `seq > afterSeq` (the last, incomplete chunk composed from its entries). */
  leaves(afterSeq: number, limit: number): { seq: number; hash: string }[] {
    const view = this.view();
    const out: { seq: number; hash: string }[] = [];
    for (let seq = afterSeq + 1; seq <= view.treeSize && out.length < limit; seq++) out.push({ seq, hash: view.read(0, seq - 1).toString('hex') });
    return out;
  }

  inclusionProof(seq: number, treeSize: number): { leafHash: string; proof: string[] } {
    const view = this.view(treeSize);
    if (!Number.isInteger(seq) || seq < 1 || seq > treeSize) throw new InputError('ERR_VALIDATION', `seq must be 1–${treeSize}`);
    return { leafHash: view.read(0, seq - 1).toString('hex'), proof: inclusionProof(view.read, seq - 1, treeSize).map((h) => h.toString('hex')) };
  }

  consistencyProof(from: number, to: number): string[] {
    const view = this.view(to);
    if (!Number.isInteger(from) || from < 1 || from > to) throw new InputError('ERR_VALIDATION', `from must be 1–${to}`);
    return consistencyProof(view.read, from, to).map((h) => h.toString('hex'));
  }

  /** The root of the tree of the first `treeSize` entries. */
  rootAt(treeSize: number): string {
    const view = this.view(treeSize);
    return rangeHash(view.read, 0, treeSize).toString('hex');
  }

  saveCheckpoint(checkpoint: Checkpoint): void {
    this.q.insertCheckpoint.run(checkpoint.treeSize, checkpoint.rootHash, checkpoint.timestamp, checkpoint.signature);
  }

  latestCheckpoint(): Checkpoint | undefined {
    const row = this.q.latestCheckpoint.get();
    return row && { treeSize: row.tree_size, rootHash: row.root_hash, timestamp: row.timestamp, signature: row.signature };
  }

  logKeys(): LogKeyRecord[] {
    return this.q.logKeys.all().map((row) => ({ kid: row.kid, publicJwk: JSON.parse(row.public_jwk) as LogKeyRecord['publicJwk'], createdAt: row.created_at }));
  }

  addLogKey(key: LogKeyRecord): void {
    this.q.insertLogKey.run(key.kid, JSON.stringify(key.publicJwk), key.createdAt);
  }

  /** A copy of the frontier of chunk roots after `chunks` chunks (cached; else read from the stored subtrees). */
  chunkFrontierAt(chunks: number): MerkleFrontier {
    if (this.chunkFrontier?.size !== chunks) {
      const read = (level: number, index: number) => this.storedNode(level + CHUNK_LEVEL, index);
      this.chunkFrontier = new MerkleFrontier(chunks, frontierPositions(chunks).map((p) => read(p.level, p.index)));
    }
    return this.chunkFrontier.clone();
  }

  private storedNode(level: number, index: number): Digest {
    const row = this.q.node.get(level, index);
    if (!row) throw new OperationError('ERR_INTERNAL', `The audit tree lacks subtree ${level}/${index}`);
    return row.hash;
  }

  /**
   * The tree as it stands: its size (every contiguous entry) and a reader of any perfect subtree —
   * stored from level 4 up, composed from a chunk's leaves below. After catching up (the default),
   * only the last, incomplete chunk's leaves are hashed from its entries. Without it (`record`
   * false, a pure read), every chunk not recorded yet is hashed from its entries and the subtrees
   * over them composed; answers undefined when more than `CATCH_UP_CHUNKS` chunks wait.
   * `treeSize`, when given, must not exceed the size.
   */
  private view(treeSize?: number): TreeView;
  private view(treeSize: number | undefined, record: false): TreeView | undefined;
  private view(treeSize?: number, record = true): TreeView | undefined {
    if (record) this.catchUp();
    const recorded = this.chunkCount() * CHUNK;
    const limit = record ? CHUNK : CATCH_UP_CHUNKS * CHUNK + CHUNK;
    const tail = this.q.entriesAfter.all(recorded, limit);
    let contiguous = 0;
    while (contiguous < tail.length && tail[contiguous]!.seq === recorded + contiguous + 1) contiguous++;
    if (contiguous === limit && !record) return undefined;
    const tailLeaves = tail.slice(0, contiguous).map((row) => auditLeafHash(toEntry(row)));
    const size = recorded + contiguous;
    if (treeSize !== undefined && (!Number.isInteger(treeSize) || treeSize < 1 || treeSize > size)) {
      throw new InputError('ERR_VALIDATION', `treeSize must be 1–${size}`);
    }
    const chunkLeaves = new Map<number, Digest[]>();
    const leavesOf = (chunk: number): Digest[] => {
      let leaves = chunkLeaves.get(chunk);
      if (!leaves) {
        if (chunk * CHUNK >= recorded) leaves = tailLeaves.slice(chunk * CHUNK - recorded, (chunk + 1) * CHUNK - recorded);
        else {
          const blob = this.q.chunk.get(chunk)?.leaves;
          if (!blob) throw new OperationError('ERR_INTERNAL', `The audit tree lacks leaf chunk ${chunk}`);
          leaves = Array.from({ length: CHUNK }, (_, i) => blob.subarray(i * 32, i * 32 + 32));
        }
        chunkLeaves.set(chunk, leaves);
      }
      return leaves;
    };
    const read = (level: number, index: number): Digest => {
      if (level >= CHUNK_LEVEL) {
        // A subtree over chunks not recorded yet is composed from its halves.
        if ((index + 1) * 2 ** level <= recorded) return this.storedNode(level, index);
        return nodeHash(read(level - 1, 2 * index), read(level - 1, 2 * index + 1));
      }
      const first = index * 2 ** level;
      const leaves = leavesOf(Math.floor(first / CHUNK));
      const offset = first % CHUNK;
      const slice = leaves.slice(offset, offset + 2 ** level);
      if (slice.length !== 2 ** level) throw new OperationError('ERR_INTERNAL', `The audit tree lacks subtree ${level}/${index}`);
      return perfectRoot(slice);
    };
    return { treeSize: size, read };
  }
}
