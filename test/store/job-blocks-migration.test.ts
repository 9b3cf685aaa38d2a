/**
 * Migration 0004 turns a job's one-row-per-line queries and results into blocks of one line: an
 * unfinished job keeps its answered and refused lines and runs its remaining queries, and every
 * line is served once, in order.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteJobStore } from '../../src/jobs/job-store.js';
import { openDatabase, type SqliteDatabase } from '../../src/store/sqlite/database.js';
import { migrate, readMigrations } from '../../src/store/sqlite/migrations.js';

const HASH = 'f'.repeat(64);

describe('migration 0004: job lines in blocks', () => {
  let dir: string | undefined;
  let db: SqliteDatabase | undefined;
  afterEach(() => {
    db?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    db = dir = undefined;
  });

  it('keeps a running job as one-line blocks that the runner can finish', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sb-migrate-'));
    db = openDatabase(join(dir, 'bank.db'));
    const migrations = readMigrations();
    expect(migrations.map((m) => m.version).slice(0, 4)).toEqual([1, 2, 3, 4]);
    migrate(db, migrations.slice(0, 3));
    db.prepare(`INSERT INTO members (id, name, roles, status, created_at, updated_at) VALUES ('matcher-co', 'M', '["matcher"]', 'active', 'x', 'x')`).run();
    // A running job of four lines: line 1 answered, line 2 refused at upload, lines 3–4 to run.
    db.prepare(`INSERT INTO jobs (id, public_id, member_id, status, match_limit, total, done, error_lines, created_at) VALUES (7, 'job7', 'matcher-co', 'running', 10, 4, 2, 1, 'x')`).run();
    db.prepare(`INSERT INTO job_results (job_id, line, result) VALUES (7, 1, '{"line":1,"matches":[]}'), (7, 2, '{"line":2,"error":{"code":"ERR_BAD_JSON","message":"m"}}')`).run();
    db.prepare(`INSERT INTO job_queries (job_id, line, type, hash, max_distance, ref) VALUES (7, 3, 'pdq', ?, 31, 'r3'), (7, 4, 'pdq', ?, 0, NULL)`).run(HASH, HASH);

    expect(migrate(db).applied).toEqual(migrations.slice(3).map((m) => m.version));
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'job%' ORDER BY name`).pluck().all();
    expect(tables).toEqual(['job_query_blocks', 'job_result_blocks', 'jobs']);

    const store = new SqliteJobStore(db, () => Date.parse('2026-12-07T00:00:00Z'));
    const pending = store.pendingBlocks(7, 10);
    expect(pending).toEqual([
      { firstLine: 3, lastLine: 3, queries: [{ line: 3, type: 'pdq', hash: HASH, maxDistance: 31, ref: 'r3' }], refused: [] },
      { firstLine: 4, lastLine: 4, queries: [{ line: 4, type: 'pdq', hash: HASH, maxDistance: 0, ref: null }], refused: [] },
    ]);
    expect(await store.recordBlock(7, pending[0]!, '{"line":3,"ref":"r3","matches":[]}\n')).toBe(true);
    expect(await store.recordBlock(7, pending[1]!, '{"line":4,"matches":[]}\n')).toBe(true);
    expect(store.pendingBlocks(7, 10)).toEqual([]);
    expect(store.byRowId(7)).toMatchObject({ done: 4, total: 4 });

    let text = '';
    for (let after = 0, page = store.resultPage(7, after, 2); page; after = page.lastLine, page = store.resultPage(7, after, 2)) text += page.text;
    expect(text.trimEnd().split('\n').map((line) => (JSON.parse(line) as { line: number }).line)).toEqual([1, 2, 3, 4]);
  });
});
