// A process that keeps every core busy with the batch search a job runs, and nothing else: the
// same index code over the same SEARCH_LOAD_SIGNALS uniform PDQ hashes (seed 1, as bench:job's
// bank), `searchMany` of the job's query mix at radius 31 in a loop, its search threads at
// SEARCH_LOAD_NICENESS. bench:job runs it beside an idle service to measure what single-match
// latency does when the machine's cores are busy with searches that are not the service's own
// (the machine's part of the p99 ratio, apart from the job runner's). Prints `ready` on stdout
// once searching; runs until killed.
import { createHammingIndex } from '../../src/index/create-hamming-index.js';
import { uniformHashes, uniformQueryMix } from './uniform-hashes.js';

const SIGNALS = Number(process.env['SEARCH_LOAD_SIGNALS'] ?? 1_000_000);
const NICENESS = Number(process.env['SEARCH_LOAD_NICENESS'] ?? 10);
const RADIUS = 31;
const QUERIES = 20_000;

const set = uniformHashes(SIGNALS, 1);
const index = createHammingIndex({ workerNiceness: NICENESS });
index.addMany(set.ids, set.hashes);
const queries = uniformQueryMix(set, QUERIES, 1000);
await index.searchMany(queries.subarray(0, 1000 * 32), RADIUS);
process.stdout.write('ready\n');
for (;;) await index.searchMany(queries, RADIUS);
