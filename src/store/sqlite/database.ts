/**
 * Opens the SQLite database with the settings the bank's durability promise rests on: WAL
 * journal, `synchronous=FULL` (a commit that returned survives power loss), foreign keys on and a
 * busy timeout. Write transactions are started `BEGIN IMMEDIATE` by the store.
 *
 * A database it creates is private to its owner (mode 0600, in a folder created 0700): it holds
 * who submitted what. SQLite gives the `-wal` and `-shm` files the database file's mode. An
 * existing file keeps the mode its operator gave it.
 */
import Database from 'better-sqlite3';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

export type SqliteDatabase = Database.Database;

export interface OpenOptions {
  readonly readonly?: boolean;
  readonly busyTimeoutMs?: number;
}

export function openDatabase(path: string, options: OpenOptions = {}): SqliteDatabase {
  if (path !== ':memory:' && !options.readonly) createPrivateFile(path);
  const db = new Database(path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
  if (!options.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
  }
  db.pragma('foreign_keys = ON');
  return db;
}

/** Creates `path` (and its missing folders) readable by its owner only, unless it exists. */
export function createPrivateFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  closeSync(openSync(path, 'a', 0o600));
}

/**
 * Runs `work` (a write transaction) with `synchronous=NORMAL` — committed without waiting for the
 * disk — and restores the connection's setting after. Only for writes that count for nothing
 * until a later `synchronous=FULL` commit, whose sync of the write-ahead log covers every frame
 * written before it, or whose loss to a power cut (whole transactions, never part of one) leaves
 * work that is simply done again (a job block's answer).
 */
export function withoutSync<T>(db: SqliteDatabase, work: () => T): T {
  const synchronous = db.pragma('synchronous', { simple: true }) as number;
  db.pragma('synchronous = NORMAL');
  try {
    return work();
  } finally {
    db.pragma(`synchronous = ${synchronous}`);
  }
}
