/**
 * The `used_jtis` table (SPEC §3 replay guard): the jtis of state-changing requests, kept per
 * member until they expire. Written on its own before a request runs (`consume`), or by the audit
 * log inside the transaction of the request's change (`src/store/sqlite/sqlite-audit.ts`).
 */
import type { SqliteDatabase } from './database.js';

export class SqliteUsedJtis {
  private readonly q;

  constructor(db: SqliteDatabase) {
    this.q = {
      insert: db.prepare<[string, string, number]>('INSERT OR IGNORE INTO used_jtis (member_id, jti, expires_at) VALUES (?, ?, ?)'),
      used: db.prepare<[string, string], { used: number }>('SELECT 1 AS used FROM used_jtis WHERE member_id = ? AND jti = ?'),
      prune: db.prepare<[number]>('DELETE FROM used_jtis WHERE expires_at < ?'),
    };
  }

  /** Records the jti; false when this member had used it already. */
  consume(memberId: string, jti: string, expiresAtSeconds: number): boolean {
    return this.q.insert.run(memberId, jti, expiresAtSeconds).changes === 1;
  }

  isUsed(memberId: string, jti: string): boolean {
    return this.q.used.get(memberId, jti) !== undefined;
  }

  /** Forgets jtis that expired before `nowSeconds`; answers how many. */
  prune(nowSeconds: number): number {
    return this.q.prune.run(nowSeconds).changes;
  }
}
