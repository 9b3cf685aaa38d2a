/**
 * Child process of test/reliability/index-heap.test.ts (run with `--expose-gc`): multi-index
 * tables over 1,000,000 hashes, then merges of 8,192 new hashes at a time, as the service's index
 * does under a steady submit load, each superseded table set dropped and collected. Prints one
 * JSON line: the resident size of the malloc main heap (`[heap]` in /proc/self/smaps) after the
 * build and after each merge, and how many merges had to move the postings to new, larger lists.
 */
import { randomFillSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { HashStore } from '../../src/index/hash-store.js';
import { chooseSubstringCount } from '../../src/index/mih/substring-count.js';
import { evenLayout } from '../../src/index/mih/substring-layout.js';
import { buildTables, mergeTables, type TableSet } from '../../src/index/mih/substring-tables.js';

const HASHES = 1_000_000;
const MERGE = 8192;
const MERGES = 28;
const collect = (globalThis as { gc?: () => void }).gc;
if (collect === undefined) throw new Error('run with --expose-gc');

function mainHeapMiB(): number {
  const rss = /\[heap\]\n(?:.*\n)*?Rss:\s+(\d+) kB/.exec(readFileSync('/proc/self/smaps', 'utf8'));
  return rss ? Number(rss[1]) / 1024 : 0;
}

const store = new HashStore(1, HASHES + MERGE * MERGES);
const source = () => ({ words: store.words, hashesWord: store.hashes >>> 2, deadBits: store.deadBits });
const hashes = randomFillSync(new Uint8Array((HASHES + MERGE * MERGES) * 32));
store.appendMany(Uint32Array.from({ length: HASHES }, (_, i) => i + 1), hashes.subarray(0, HASHES * 32));
let tables: TableSet = buildTables(evenLayout(chooseSubstringCount(HASHES)), source(), store.slotCount);
collect();
const heapMiB = [mainHeapMiB()];
let moves = 0;
for (let merge = 0; merge < MERGES; merge++) {
  const first = HASHES + merge * MERGE;
  store.appendMany(Uint32Array.from({ length: MERGE }, (_, i) => first + i + 1), hashes.subarray(first * 32, (first + MERGE) * 32));
  const capacity = tables.tables[0]!.postings.capacity;
  tables = mergeTables(tables, source(), store.slotCount);
  if (tables.tables[0]!.postings.capacity !== capacity) moves++;
  collect();
  heapMiB.push(mainHeapMiB());
}
process.stdout.write(`${JSON.stringify({ substrings: tables.tables.length, moves, heapMiB })}\n`);
