/**
 * A `HashPool` worker thread: hashes the files it is sent, one at a time, with its own
 * `ImageHasher`, and answers each request with the hashes or a coded error. libvips runs
 * single-threaded here — the pool provides the parallelism, one worker per core.
 */
import sharp from 'sharp';
import { parentPort } from 'node:worker_threads';
import { type HashReply, type HashRequest, toWireError } from './hash-messages.js';
import { ImageHasher } from './image-hasher.js';

sharp.concurrency(1);
sharp.cache(false);

const hasher = new ImageHasher();
const port = parentPort;
if (port === null) throw new Error('hash-worker must run in a worker thread');

port.on('message', (request: HashRequest) => {
  hasher.hash(request.path, request.options).then(
    (result) => port.postMessage({ id: request.id, result } satisfies HashReply),
    (error: unknown) => port.postMessage({ id: request.id, error: toWireError(error) } satisfies HashReply),
  );
});
