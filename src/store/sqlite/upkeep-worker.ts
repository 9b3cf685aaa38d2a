/**
 * Worker thread that does the SQLite store's upkeep off the thread answering requests, with its
 * own connection at a lowered priority: it records new audit entries in the Merkle tree
 * (`SqliteAuditLog.catchUp`) and checkpoints the write-ahead log into the database file, so that
 * neither the hashing nor the checkpoint's copying and syncing lands on a request.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { lowerThreadPriority } from '../../runtime/thread-priority.js';
import { openDatabase } from './database.js';
import { SqliteAuditLog } from './sqlite-audit.js';

interface UpkeepData {
  readonly dbPath: string;
  /** How often new audit entries are looked for. */
  readonly pollMs: number;
  /** How often the write-ahead log is checkpointed. */
  readonly checkpointMs: number;
}

const { dbPath, pollMs, checkpointMs } = workerData as UpkeepData;
lowerThreadPriority(10);
const db = openDatabase(dbPath);
// The tree is derived from the entries and rebuilt from them at open, so its writes need not wait
// for the disk: a power loss costs at most a catch-up, never an entry.
db.pragma('synchronous = NORMAL');
db.pragma('wal_autocheckpoint = 0');
const log = new SqliteAuditLog(db);
let stopped = false;
let lastCheckpoint = Date.now();

function step(): void {
  if (stopped) return;
  try {
    if (log.isBehind()) log.catchUp();
    if (Date.now() - lastCheckpoint >= checkpointMs) {
      // Passive: copies what it can without waiting for readers or writers.
      db.pragma('wal_checkpoint(PASSIVE)');
      lastCheckpoint = Date.now();
    }
  } catch (error) {
    parentPort?.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  }
  setTimeout(step, pollMs);
}

parentPort?.on('message', (message: { type: string }) => {
  if (message.type !== 'stop') return;
  stopped = true;
  db.close();
  parentPort?.postMessage({ type: 'stopped' });
});
step();
