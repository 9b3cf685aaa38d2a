/**
 * The files of a database the bank creates are its owner's only: the database, its write-ahead
 * log and shared-memory index (0600), the folder made for them (0700) and a backup (0600). They
 * hold who submitted what. A file the operator made keeps the mode the operator gave it.
 */
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backupDatabase } from '../../src/store/sqlite/backup-database.js';
import { openDatabase } from '../../src/store/sqlite/database.js';

const dir = mkdtempSync(join(tmpdir(), 'sb-modes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const modeOf = (path: string): string => (statSync(path).mode & 0o777).toString(8);

describe('database files', () => {
  it('creates the database, its log and its folder private to their owner, and backs up privately', async () => {
    const path = join(dir, 'new-folder', 'bank.db');
    const db = openDatabase(path);
    try {
      db.exec('CREATE TABLE t (x)');
      db.prepare('INSERT INTO t VALUES (1)').run();
      expect({ folder: modeOf(join(dir, 'new-folder')), db: modeOf(path), wal: modeOf(`${path}-wal`), shm: modeOf(`${path}-shm`) }).toEqual({
        folder: '700',
        db: '600',
        wal: '600',
        shm: '600',
      });
      const copy = join(dir, 'copy.db');
      await backupDatabase(path, copy);
      expect(modeOf(copy)).toBe('600');
    } finally {
      db.close();
    }
  });

  it("keeps the mode of a database file the operator made", () => {
    const path = join(dir, 'shared.db');
    writeFileSync(path, '');
    chmodSync(path, 0o640);
    openDatabase(path).close();
    expect(modeOf(path)).toBe('640');
  });
});
