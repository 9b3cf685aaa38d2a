/**
 * Worker thread that commits signal submissions on its own connection to the service's database
 * (see src/store/sqlite/submit-writer.ts). Each message is one `SqliteSignals.submit`: one
 * immediate transaction with the signals, submissions, audit entries, feed rows and the request's
 * `jti`, committed with `synchronous=FULL` before the outcomes are posted back — so a submission
 * is durable before the service updates its index and answers. It also records the audit tree
 * rows the upkeep worker hashed, in their turn among the batches.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { toWireError } from '../../errors.js';
import { openDatabase } from './database.js';
import { fromWireChunks, SqliteAuditLog } from './sqlite-audit.js';
import { SqliteSignals } from './sqlite-signals.js';
import type { SubmitWriterData, SubmitWriterReply, SubmitWriterRequest } from './submit-writer.js';

const { dbPath, autoCheckpointPages, appendAuditEntries, appendChanges } = workerData as SubmitWriterData;
const db = openDatabase(dbPath);
db.pragma(`wal_autocheckpoint = ${autoCheckpointPages}`);
/** The time of the submission being committed, as the service's clock read it when the write's turn came. */
let nowMs = 0;
const log = new SqliteAuditLog(db, appendAuditEntries);
const signals = new SqliteSignals(db, log, () => new Date(nowMs).toISOString(), appendChanges);

const reply = (message: SubmitWriterReply): void => parentPort!.postMessage(message);

/** Answers request `id` with what `run` answers, or with its error in wire form. */
function answer(id: number, run: () => SubmitWriterReply): void {
  try {
    reply(run());
  } catch (error) {
    reply({ type: 'failed', id, error: toWireError(error) });
  }
}

parentPort!.on('message', (request: SubmitWriterRequest) => {
  switch (request.type) {
    case 'submit':
      nowMs = request.nowMs;
      answer(request.id, () => ({ type: 'submitted', id: request.id, outcomes: signals.submit(request.memberId, request.items, request.origin) }));
      break;
    case 'chunks':
      answer(request.id, () => ({ type: 'recorded', id: request.id, recorded: log.recordChunksNow(fromWireChunks(request.chunks)) }));
      break;
    case 'autocheckpoint':
      db.pragma(`wal_autocheckpoint = ${request.pages}`);
      break;
    case 'stop':
      db.close();
      reply({ type: 'stopped' });
      break;
  }
});
