/**
 * Worker thread that does the SQLite store's upkeep off the thread answering requests, with its
 * own read connection at a lowered priority: it hashes newly committed audit entries into Merkle
 * tree rows (`SqliteAuditLog.hashChunks`) and posts them to the service's connection, the one
 * writer, which records them between requests; and it checkpoints the write-ahead log into the
 * database file. Neither the hashing nor the checkpoint's copying and syncing lands on a request,
 * and the worker never competes for the write lock.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { lowerThreadPriority } from '../../runtime/thread-priority.js';
import type { MerkleFrontier } from '../../audit/merkle-tree.js';
import { openDatabase } from './database.js';
import { SqliteAuditLog, toWireChunks } from './sqlite-audit.js';

interface UpkeepData {
  readonly dbPath: string;
  /** How often new audit entries are looked for. */
  readonly pollMs: number;
  /**
   * Least time between checkpoints of the write-ahead log; 0 (the service's default): at every
   * step. A passive checkpoint with nothing new to copy returns at once; under sustained writes,
   * checkpointing each step keeps up, so the log is reused from its start instead of growing —
   * with one a second it grew past 1 GB during batch submits, which wrote slower (docs/benchmarks.md).
   */
  readonly checkpointMs: number;
}

const { dbPath, pollMs, checkpointMs } = workerData as UpkeepData;
lowerThreadPriority(10);
const db = openDatabase(dbPath);
db.pragma('wal_autocheckpoint = 0');
const log = new SqliteAuditLog(db);
let stopped = false;
let lastCheckpoint = Date.now();
/** Chunks hashed and posted so far, and the frontier after them; re-read from the tree on `resync`. */
let hashed: { chunks: number; frontier: MerkleFrontier } | undefined;

/** Hashes and posts what has been committed since the last step, a bounded amount at a time. */
function hashNewEntries(): void {
  for (let round = 0; round < 16; round++) {
    if (hashed === undefined) {
      const chunks = log.chunkCount();
      hashed = { chunks, frontier: log.chunkFrontierAt(chunks) };
    }
    if (!log.isBehind(hashed.chunks)) return;
    const next = log.hashChunks(hashed.chunks, hashed.frontier);
    if (!next) return;
    parentPort?.postMessage({ type: 'chunks', chunks: toWireChunks(next) });
    hashed = { chunks: next.first + next.leaves.length, frontier: next.frontier };
  }
}

function step(): void {
  if (stopped) return;
  try {
    hashNewEntries();
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
  if (message.type === 'resync') hashed = undefined;
  if (message.type !== 'stop') return;
  stopped = true;
  db.close();
  parentPort?.postMessage({ type: 'stopped' });
});
step();
