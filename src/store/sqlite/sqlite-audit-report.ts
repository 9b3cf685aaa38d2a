/**
 * Transparency-report figures over a time window, computed in SQL from the audit entries and
 * the hourly match counts: signals created, retracted and disputed by type and label,
 * submissions and retractions by member, opinions by verdict, match queries and hits by member,
 * and every member or key change.
 */
import type { AuditReport, MatchCount } from '../store.js';
import type { SqliteDatabase } from './database.js';

const WINDOW = "(@since IS NULL OR e.at >= @since) AND (@until IS NULL OR e.at < @until)";

export class SqliteAuditReport {
  private readonly q;

  constructor(private readonly db: SqliteDatabase) {
    const byTypeAndLabel = (condition: string, labels: string) =>
      db.prepare<[Record<string, unknown>], { type: string; label: string; count: number }>(`
        SELECT json_extract(e.data, '$.type') AS type, l.value AS label, count(*) AS count
        FROM audit_entries e, json_each(${labels}) l
        WHERE ${WINDOW} AND ${condition}
        GROUP BY type, label ORDER BY type, label`);
    this.q = {
      created: byTypeAndLabel("e.action = 'signal.submit' AND json_extract(e.data, '$.result') = 'created'", "json_extract(e.data, '$.labels')"),
      retracted: byTypeAndLabel("e.action = 'signal.retract' AND json_extract(e.data, '$.status') = 'retracted'", "json_extract(e.data, '$.signalLabels')"),
      disputed: byTypeAndLabel(
        "e.action = 'opinion.set' AND json_extract(e.data, '$.status') = 'disputed' AND json_extract(e.data, '$.previousStatus') != 'disputed'",
        "json_extract(e.data, '$.signalLabels')",
      ),
      submissions: db.prepare<[Record<string, unknown>], { member: string; submitted: number; retracted: number }>(`
        SELECT e.actor AS member,
          sum(e.action = 'signal.submit') AS submitted,
          sum(e.action = 'signal.retract') AS retracted
        FROM audit_entries e WHERE ${WINDOW} AND e.action IN ('signal.submit', 'signal.retract')
        GROUP BY e.actor ORDER BY e.actor`),
      opinions: db.prepare<[Record<string, unknown>], { verdict: string; count: number }>(`
        SELECT json_extract(e.data, '$.verdict') AS verdict, count(*) AS count
        FROM audit_entries e WHERE ${WINDOW} AND e.action = 'opinion.set' GROUP BY verdict ORDER BY verdict`),
      matches: db.prepare<[Record<string, unknown>], { member: string; queries: number; hits: number }>(`
        SELECT member_id AS member, sum(queries) AS queries, sum(hits) AS hits FROM match_counts
        WHERE (@since IS NULL OR hour >= substr(@since, 1, 13) || ':00:00.000Z') AND (@until IS NULL OR hour < @until)
        GROUP BY member_id ORDER BY member_id`),
      membership: db.prepare<[Record<string, unknown>], { seq: number; at: string; actor: string; action: string; subject: string }>(`
        SELECT e.seq, e.at, e.actor, e.action, e.subject FROM audit_entries e
        WHERE ${WINDOW} AND (e.action LIKE 'member.%' OR e.action LIKE 'key.%') ORDER BY e.seq`),
      addCount: db.prepare<[string, string, number, number]>(`INSERT INTO match_counts (member_id, hour, queries, hits) VALUES (?, ?, ?, ?)
        ON CONFLICT (member_id, hour) DO UPDATE SET queries = queries + excluded.queries, hits = hits + excluded.hits`),
    };
  }

  report(since: string | undefined, until: string | undefined): AuditReport {
    const window = { since: since ?? null, until: until ?? null };
    return {
      ...window,
      signals: { created: this.q.created.all(window), retracted: this.q.retracted.all(window), disputed: this.q.disputed.all(window) },
      submissions: this.q.submissions.all(window),
      opinions: this.q.opinions.all(window),
      matches: this.q.matches.all(window),
      membership: this.q.membership.all(window),
    };
  }

  addMatchCounts(counts: readonly MatchCount[]): void {
    this.db.transaction(() => {
      for (const c of counts) this.q.addCount.run(c.memberId, c.hour, c.queries, c.hits);
    }).immediate();
  }
}
