/**
 * Entry point of the background table worker: runs each build it receives and sends the new
 * tables (shared memory, not copied) back to the multi-index.
 */
import { parentPort } from 'node:worker_threads';
import { runTableJob, type TableJob, type TableJobResponse } from './table-maintenance.js';

const port = parentPort;
if (port === null) throw new Error('table-worker must run as a worker thread');

port.on('message', (job: TableJob) => {
  let response: TableJobResponse;
  try {
    response = { tables: runTableJob(job) };
  } catch (error) {
    response = { error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  port.postMessage(response);
});
