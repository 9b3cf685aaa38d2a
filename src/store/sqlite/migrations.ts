/**
 * Numbered SQL migrations (`migrations/NNNN_name.sql`): applied in order, each in its own
 * immediate transaction, and recorded with a checksum in `schema_migrations`. A database that
 * has a migration this code does not know is refused (`ERR_SCHEMA_TOO_NEW`), as is one whose
 * applied migration text differs from the file (`ERR_SCHEMA_MISMATCH`).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { OperationError } from '../../errors.js';
import type { SqliteDatabase } from './database.js';

/** `migrations/` at the package root, from both `src/store/sqlite` and `dist/store/sqlite`. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations/', import.meta.url));

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

const FILE_RE = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export function readMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .map((file) => ({ file, match: FILE_RE.exec(file) }))
    .filter((entry): entry is { file: string; match: RegExpExecArray } => entry.match !== null)
    .map(({ file, match }) => {
      const sql = readFileSync(`${dir}/${file}`, 'utf8');
      return { version: Number(match[1]), name: match[2] ?? '', sql, checksum: createHash('sha256').update(sql).digest('hex') };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((migration, i) => {
    if (migration.version !== i + 1) throw new OperationError('ERR_CONFIG', `Migrations must be numbered 0001, 0002, …; found ${migration.version} at position ${i + 1}`);
  });
  return migrations;
}

interface AppliedRow {
  version: number;
  name: string;
  checksum: string;
}

export interface MigrationReport {
  readonly applied: readonly number[];
  readonly version: number;
}

/** Checks the database against the code's migrations and applies the pending ones. */
export function migrate(db: SqliteDatabase, migrations: readonly Migration[] = readMigrations(), apply = true): MigrationReport {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT`);
  const applied = db.prepare<[], AppliedRow>('SELECT version, name, checksum FROM schema_migrations ORDER BY version').all();
  const known = migrations.length;
  for (const row of applied) {
    if (row.version > known) {
      throw new OperationError(
        'ERR_SCHEMA_TOO_NEW',
        `The database has schema version ${Math.max(...applied.map((r) => r.version))} but this code knows only ${known}; upgrade signalbank before opening it`,
      );
    }
    const migration = migrations[row.version - 1];
    if (migration?.checksum !== row.checksum) {
      throw new OperationError('ERR_SCHEMA_MISMATCH', `Migration ${row.version} (${row.name}) applied to this database differs from the file shipped with this code`);
    }
  }
  const done = new Set(applied.map((row) => row.version));
  const pending = migrations.filter((migration) => !done.has(migration.version));
  if (pending.length > 0 && !apply) {
    throw new OperationError('ERR_SCHEMA_MISMATCH', `The database is at schema version ${applied.length} and needs migrations ${pending.map((m) => m.version).join(', ')}`);
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)');
  for (const migration of pending) {
    db.transaction(() => {
      db.exec(migration.sql);
      record.run(migration.version, migration.name, migration.checksum, new Date().toISOString());
    }).immediate();
  }
  return { applied: pending.map((m) => m.version), version: known };
}
