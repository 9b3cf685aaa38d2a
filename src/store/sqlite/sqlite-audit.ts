/**
 * Appends audit entries (SPEC §5) inside the caller's transaction. Entries are
 * `{seq, at, actor, kid, action, subject, data, proof}`; a request's JWS (`proof`) is stored once
 * in `audit_proofs` however many entries the request made. The tables refuse UPDATE and DELETE.
 */
import type { AuditEntry, AuditOrigin } from '../store.js';
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

export class SqliteAuditLog {
  private readonly insertProof;
  private readonly insertEntry;
  private readonly entriesAfter;

  constructor(db: SqliteDatabase) {
    this.entriesAfter = db.prepare<[number, number], EntryRow>(`SELECT e.seq, e.at, e.actor, e.kid, e.action, e.subject, e.data,
      p.jws AS proof FROM audit_entries e LEFT JOIN audit_proofs p ON p.id = e.proof_id WHERE e.seq > ? ORDER BY e.seq LIMIT ?`);
    this.insertProof = db.prepare<[string]>('INSERT INTO audit_proofs (jws) VALUES (?)');
    this.insertEntry = db.prepare<[string, string, string | null, string, string, string, number | null]>(
      'INSERT INTO audit_entries (at, actor, kid, action, subject, data, proof_id) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
  }

  /** An appender for one transaction on behalf of `origin`; call inside that transaction. */
  appender(origin: AuditOrigin): AuditAppender {
    let proofId: number | null | undefined;
    return {
      append: (action, subject, data, at) => {
        if (proofId === undefined) {
          proofId = origin.proof === null ? null : Number(this.insertProof.run(origin.proof).lastInsertRowid);
        }
        this.insertEntry.run(at, origin.actor, origin.kid, action, subject, JSON.stringify(data), proofId);
      },
    };
  }

  list(afterSeq: number, limit: number): AuditEntry[] {
    return this.entriesAfter.all(afterSeq, limit).map(toEntry);
  }
}
