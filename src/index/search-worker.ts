/**
 * Entry point of a search worker thread: answers each `SearchRequest` it receives from its
 * index with the queries it takes from the shared cursor, and sends the ranked answers back.
 * It first lowers its own scheduling priority when its pool asks (`workerData.niceness`), so
 * that long batches (batch jobs) yield the CPU to the thread answering requests.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { lowerThreadPriority } from '../runtime/thread-priority.js';
import { SearchWorkerState, type SearchRequest, type SearchResponse } from './search-protocol.js';

const niceness = (workerData as { niceness?: number } | undefined)?.niceness ?? 0;
if (niceness > 0) lowerThreadPriority(niceness);

const state = new SearchWorkerState();
const port = parentPort;
if (port === null) throw new Error('search-worker must run as a worker thread');

port.on('message', (request: SearchRequest) => {
  let response: SearchResponse;
  try {
    response = { id: request.id, answer: state.answer(request) };
  } catch (error) {
    response = { id: request.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  const transfer: ArrayBuffer[] = [];
  if ('answer' in response) {
    const { queryIndexes, counts, keys } = response.answer;
    for (const array of [queryIndexes, counts, keys]) if (array.buffer instanceof ArrayBuffer) transfer.push(array.buffer);
  }
  port.postMessage(response, transfer);
});
