/**
 * The signal log in SQLite (SPEC §5): appends audit entries `{seq, at, actor, kid, action,
 * subject, data, proof}` inside the caller's transaction and, in that same transaction, the
 * entry's RFC 6962 leaf hash (over its RFC 8785 canonical JSON, exactly as it is served) and
 * every perfect subtree the leaf completes — O(log n) per entry, never a rebuild. It answers
 * entries with filters, the tree head, stored leaves, inclusion and consistency proofs, and
 * keeps signed checkpoints and the log's public keys. A request's JWS is stored once however
 * many entries it made. Entries, subtrees and checkpoints refuse UPDATE and DELETE.
 */
import { canonicalJson } from '../../audit/canonical-json.js';
import {
  consistencyProof,
  frontierPositions,
  inclusionProof,
  leafHash,
  MerkleFrontier,
  type Digest,
} from '../../audit/merkle-tree.js';
import { InputError, OperationError } from '../../errors.js';
import type { AuditEntry, AuditEntryFilter, AuditOrigin, Checkpoint, LogKeyRecord, TreeHead } from '../store.js';
import type { SqliteDatabase } from './database.js';

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
  return leafHash(canonicalJson(entry));
}

export class SqliteAuditLog {
  private readonly q;

  constructor(private readonly db: SqliteDatabase) {
    this.q = {
      insertProof: db.prepare<[string]>('INSERT INTO audit_proofs (jws) VALUES (?)'),
      insertEntry: db.prepare<[number, string, string, string | null, string, string, string, number | null]>(
        'INSERT INTO audit_entries (seq, at, actor, kid, action, subject, data, proof_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      insertNode: db.prepare<[number, number, Buffer]>('INSERT INTO audit_tree_nodes (level, idx, hash) VALUES (?, ?, ?)'),
      node: db.prepare<[number, number], { hash: Buffer }>('SELECT hash FROM audit_tree_nodes WHERE level = ? AND idx = ?'),
      treeSize: db.prepare<[], { size: number | null }>('SELECT max(idx) + 1 AS size FROM audit_tree_nodes WHERE level = 0'),
      leaves: db.prepare<[number, number], { idx: number; hash: Buffer }>('SELECT idx, hash FROM audit_tree_nodes WHERE level = 0 AND idx >= ? ORDER BY idx LIMIT ?'),
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

  /** An appender for one transaction on behalf of `origin`; call inside that transaction. */
  appender(origin: AuditOrigin): AuditAppender {
    let proofId: number | null | undefined;
    let frontier: MerkleFrontier | undefined;
    return {
      append: (action, subject, data, at) => {
        if (proofId === undefined) proofId = origin.proof === null ? null : Number(this.q.insertProof.run(origin.proof).lastInsertRowid);
        frontier ??= this.loadFrontier();
        const entry: AuditEntry = { seq: frontier.size + 1, at, actor: origin.actor, kid: origin.kid, action, subject, data, proof: origin.proof };
        this.q.insertEntry.run(entry.seq, at, origin.actor, origin.kid, action, subject, JSON.stringify(data), proofId);
        for (const node of frontier.append(auditLeafHash(entry))) this.q.insertNode.run(node.level, node.index, node.hash);
      },
    };
  }

  /**
   * Hashes entries that have no leaf yet (a database from before the tree existed), in order.
   * Answers how many were added. Stops at a gap: a log with a missing entry is left for
   * `audit verify` to report rather than papered over.
   */
  catchUp(): number {
    return this.db
      .transaction(() => {
        const frontier = this.loadFrontier();
        let added = 0;
        for (;;) {
          const rows = this.q.entriesAfter.all(frontier.size, 10_000);
          if (rows.length === 0) return added;
          for (const row of rows) {
            if (row.seq !== frontier.size + 1) return added;
            for (const node of frontier.append(auditLeafHash(toEntry(row)))) this.q.insertNode.run(node.level, node.index, node.hash);
            added++;
          }
        }
      })
      .immediate();
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
    const frontier = this.loadFrontier();
    return { treeSize: frontier.size, rootHash: frontier.root().toString('hex') };
  }

  /** Stored leaf hashes of entries with `seq > afterSeq`. */
  leaves(afterSeq: number, limit: number): { seq: number; hash: string }[] {
    return this.q.leaves.all(afterSeq, limit).map((row) => ({ seq: row.idx + 1, hash: row.hash.toString('hex') }));
  }

  inclusionProof(seq: number, treeSize: number): { leafHash: string; proof: string[] } {
    this.checkSize(treeSize);
    if (!Number.isInteger(seq) || seq < 1 || seq > treeSize) throw new InputError('ERR_VALIDATION', `seq must be 1–${treeSize}`);
    const read = this.reader();
    return { leafHash: read(0, seq - 1).toString('hex'), proof: inclusionProof(read, seq - 1, treeSize).map((h) => h.toString('hex')) };
  }

  consistencyProof(from: number, to: number): string[] {
    this.checkSize(to);
    if (!Number.isInteger(from) || from < 1 || from > to) throw new InputError('ERR_VALIDATION', `from must be 1–${to}`);
    return consistencyProof(this.reader(), from, to).map((h) => h.toString('hex'));
  }

  /** The root of the tree of the first `treeSize` entries. */
  rootAt(treeSize: number): string {
    this.checkSize(treeSize);
    const read = this.reader();
    const frontier = new MerkleFrontier(treeSize, frontierPositions(treeSize).map((p) => read(p.level, p.index)));
    return frontier.root().toString('hex');
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

  private checkSize(treeSize: number): void {
    const size = this.loadFrontier().size;
    if (!Number.isInteger(treeSize) || treeSize < 1 || treeSize > size) throw new InputError('ERR_VALIDATION', `treeSize must be 1–${size}`);
  }

  private reader(): (level: number, index: number) => Digest {
    return (level, index) => {
      const row = this.q.node.get(level, index);
      if (!row) throw new OperationError('ERR_INTERNAL', `The audit tree lacks subtree ${level}/${index}`);
      return row.hash;
    };
  }

  private loadFrontier(): MerkleFrontier {
    const size = this.q.treeSize.get()?.size ?? 0;
    const read = this.reader();
    return new MerkleFrontier(size, frontierPositions(size).map((p) => read(p.level, p.index)));
  }
}
