/**
 * A consistent copy of a live SQLite database through the online backup API, then
 * `PRAGMA integrity_check` on the copy. The copy is made in one backup step: a step reads one
 * snapshot of the source, so the service's writes (another connection, WAL mode: not blocked)
 * cannot restart it. In small steps, every write landing between two steps restarts the copy
 * from the first page, and under a steady write load it would finish only when the writes stop.
 */
import { statSync } from 'node:fs';
import { OperationError } from '../../errors.js';
import { createPrivateFile, openDatabase } from './database.js';

/** Pages per backup step: all of them (better-sqlite3's largest step). */
const ALL_PAGES = 0x7fffffff;

export interface BackupReport {
  readonly bytes: number;
  readonly ms: number;
  readonly integrity: 'ok';
}

export async function backupDatabase(sourcePath: string, targetPath: string): Promise<BackupReport> {
  const started = performance.now();
  const source = openDatabase(sourcePath);
  try {
    // The copy holds what the database holds: private from its first byte.
    createPrivateFile(targetPath);
    await source.backup(targetPath, { progress: () => ALL_PAGES });
  } finally {
    source.close();
  }
  const copy = openDatabase(targetPath, { readonly: true });
  let integrity: unknown;
  try {
    integrity = copy.pragma('integrity_check', { simple: true });
  } finally {
    copy.close();
  }
  if (integrity !== 'ok') throw new OperationError('ERR_INTERNAL', `The backup at ${targetPath} failed its integrity check: ${String(integrity)}`);
  return { bytes: statSync(targetPath).size, ms: Math.round(performance.now() - started), integrity };
}
