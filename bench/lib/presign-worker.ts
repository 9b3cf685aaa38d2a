/**
 * Worker thread of bench/lib/load-requests.ts: builds and signs its share of the stress load's
 * requests (match, submit, opinion, in the load's proportions) ahead of the run, so that signing
 * never competes with the server while it is measured.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { signingKeyFromJwk, signRequest } from '../../src/client/sign-request.js';
import type { LoadRequest, PresignJob } from './load-requests.js';
import { SeededRandom } from './seeded-random.js';

const job = workerData as PresignJob;
const random = new SeededRandom(job.seed);
const stored = new Uint8Array(job.storedHashes);
const encoder = new TextEncoder();
const keys = await Promise.all(job.members.map((member) => signingKeyFromJwk(member.memberId, member.privateJwk)));

const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

function randomHash(): Uint8Array {
  const hash = new Uint8Array(32);
  random.fill(new Uint32Array(hash.buffer));
  return hash;
}

/** Half the queries are a stored hash a few bits away (a hit), half a random one (a miss). */
function queryHash(): string {
  if (random.unit() < 0.5) return hex(randomHash());
  const index = random.below(stored.length / 32);
  const hash = stored.slice(index * 32, index * 32 + 32);
  for (let flips = random.below(9); flips > 0; flips--) {
    const bit = random.below(256);
    hash[bit >> 3] = hash[bit >> 3]! ^ (1 << (bit & 7));
  }
  return hex(hash);
}

const requests: LoadRequest[] = [];
for (let i = 0; i < job.count; i++) {
  const key = keys[i % keys.length]!;
  const draw = random.unit();
  let request: Omit<LoadRequest, 'authorization'>;
  if (draw < job.mix.match) {
    request = { kind: 'match', method: 'GET', target: `/v1/match?type=pdq&hash=${queryHash()}` };
  } else if (draw < job.mix.match + job.mix.submit) {
    const signals = Array.from({ length: job.submitBatch }, () => ({ type: 'pdq', hash: hex(randomHash()), labels: ['suicide'], media: 'image', quality: 90 }));
    request = { kind: 'submit', method: 'POST', target: '/v1/signals', body: JSON.stringify({ signals }) };
  } else {
    const id = job.opinionIds[random.below(job.opinionIds.length)]!;
    request = { kind: 'opinion', method: 'POST', target: `/v1/signals/${id}/opinions`, body: JSON.stringify({ verdict: random.unit() < 0.8 ? 'confirm' : 'false_positive' }) };
  }
  const authorization = await signRequest(key, { method: request.method, target: request.target, body: request.body === undefined ? undefined : encoder.encode(request.body) }, { lifetimeSeconds: 300 });
  requests.push({ ...request, authorization });
}
parentPort!.postMessage(requests);
