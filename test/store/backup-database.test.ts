/**
 * The online backup under a steady write load from another connection (as the service writes
 * while `signalbank backup` runs): the copy finishes while the writes go on, passes its
 * integrity check and holds a consistent snapshot (every row of one moment, none half-written).
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/sqlite/database.js';
import { backupDatabase } from '../../src/store/sqlite/backup-database.js';

const dir = mkdtempSync(join(tmpdir(), 'sb-backup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('backupDatabase', () => {
  it('finishes while another connection keeps writing, with a consistent copy', async () => {
    const source = join(dir, 'live.db');
    const db = openDatabase(source);
    db.exec('CREATE TABLE rows (id INTEGER PRIMARY KEY, payload BLOB NOT NULL, mirror BLOB NOT NULL)');
    const insert = db.prepare('INSERT INTO rows (payload, mirror) VALUES (?, ?)');
    const row = () => {
      const payload = Buffer.alloc(4000, Math.random() * 256);
      insert.run(payload, payload);
    };
    db.transaction(() => {
      for (let i = 0; i < 5000; i++) row();
    })();
    // A write every millisecond, between any two steps of the backup.
    let writes = 0;
    const writer = setInterval(() => {
      db.transaction(() => {
        row();
        row();
      })();
      writes++;
    }, 1);
    try {
      const finished = await Promise.race([backupDatabase(source, join(dir, 'copy.db')), new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 10_000))]);
      expect(finished, 'the backup did not finish while the writes went on').toBeDefined();
      expect(finished!.integrity).toBe('ok');
    } finally {
      clearInterval(writer);
    }
    expect(writes).toBeGreaterThan(0);
    const copy = new Database(join(dir, 'copy.db'), { readonly: true });
    const count = copy.prepare('SELECT count(*) FROM rows').pluck().get() as number;
    // A snapshot between two transactions: whole pairs only, each row intact.
    expect(count % 2).toBe(0);
    expect(count).toBeGreaterThanOrEqual(5000);
    expect(copy.prepare('SELECT count(*) FROM rows WHERE payload != mirror').pluck().get()).toBe(0);
    copy.close();
    db.close();
  });
});
