/**
 * Entry point of the background build worker: runs each build it receives and sends the new
 * tables (shared memory, not copied) back to the multi-index.
 */
import { parentPort } from 'node:worker_threads';
import { runTableBuild, type TableBuild, type TableBuildResponse } from './background-build.js';

const port = parentPort;
if (port === null) throw new Error('build-worker must run as a worker thread');

port.on('message', (job: TableBuild) => {
  let response: TableBuildResponse;
  try {
    response = { tables: runTableBuild(job) };
  } catch (error) {
    response = { error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  port.postMessage(response);
});
