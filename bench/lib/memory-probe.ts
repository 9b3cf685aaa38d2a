/**
 * A memory probe for a server under load, loaded into its process with
 * `--import <this file>` (through `STRESS_SERVER_NODE_ARGS`); never part of the product. Every
 * `MEMORY_PROBE_MS` (default 1000) it appends one JSON line to `MEMORY_PROBE_FILE`: the main
 * thread's V8 heap (`process.memoryUsage`, `v8.getHeapStatistics`), and the process's anonymous
 * resident memory from /proc/self/smaps split by the kind of mapping it is in — the main malloc
 * arena (`[heap]`), other anonymous mappings by size class, and the WebAssembly reservations.
 * Every `MEMORY_PROBE_MAPS_EVERY` samples (default 10) the line also lists every anonymous
 * mapping with its resident size, so that two moments can be compared mapping by mapping.
 * `MEMORY_PROBE_GC=1` forces a full collection of the main thread's heap before each sample
 * (needs `--expose-gc`), so that its heap figures are live data, not garbage not yet collected.
 * `MEMORY_PROBE_LEAK_KIB_PER_S` > 0 makes the process leak that much a second (buffers kept and
 * written, so resident), to see what leak the stress check's memory measure would catch.
 */
import { appendFileSync, readFileSync, readdirSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';

const file = process.env['MEMORY_PROBE_FILE'];
const everyMs = Number(process.env['MEMORY_PROBE_MS'] ?? 1000);
const mapsEvery = Number(process.env['MEMORY_PROBE_MAPS_EVERY'] ?? 10);
const collectFirst = process.env['MEMORY_PROBE_GC'] === '1';
const collect = (globalThis as { gc?: () => void }).gc;
if (collectFirst && collect === undefined) throw new Error('MEMORY_PROBE_GC=1 needs --expose-gc');
const leakKiBPerSecond = Number(process.env['MEMORY_PROBE_LEAK_KIB_PER_S'] ?? 0);
const leaked: Buffer[] = [];
const KIB = 1024;
const MIB = 1024 * 1024;

interface Mapping {
  readonly start: string;
  readonly sizeKiB: number;
  readonly rssKiB: number;
  readonly name: string;
}

/** Anonymous (and `[heap]`) mappings of this process with their resident sizes. */
function anonymousMappings(): Mapping[] {
  const mappings: Mapping[] = [];
  let current: { start: string; sizeKiB: number; name: string } | undefined;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) {
      const size = (parseInt(header[2]!, 16) - parseInt(header[1]!, 16)) / KIB;
      const name = header[3]!.trim();
      current = name === '' || name === '[heap]' || name.startsWith('[anon') ? { start: header[1]!, sizeKiB: size, name } : undefined;
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && current) {
      mappings.push({ ...current, rssKiB: Number(rss[1]) });
      current = undefined;
    }
  }
  return mappings;
}

/** Resident MiB per kind of anonymous mapping. */
function classify(mappings: readonly Mapping[]): Record<string, number> {
  const parts: Record<string, number> = { brkHeap: 0, under1MiB: 0, from1To64MiB: 0, arena64MiB: 0, over64MiB: 0, reservationOver1GiB: 0 };
  for (const m of mappings) {
    const size = m.sizeKiB * KIB;
    let part: string;
    if (m.name === '[heap]') part = 'brkHeap';
    else if (size >= 1024 * MIB) part = 'reservationOver1GiB';
    else if (size > 64 * MIB) part = 'over64MiB';
    else if (size === 64 * MIB || size >= 60 * MIB) part = 'arena64MiB';
    else if (size >= MIB) part = 'from1To64MiB';
    else part = 'under1MiB';
    parts[part]! += m.rssKiB / KIB;
  }
  return parts;
}

function sample(index: number): void {
  if (collectFirst) collect!();
  const memory = process.memoryUsage();
  const heap = getHeapStatistics();
  const mappings = anonymousMappings();
  const line: Record<string, unknown> = {
    t: Math.round(performance.now()),
    rssMiB: memory.rss / MIB,
    heapTotalMiB: memory.heapTotal / MIB,
    heapUsedMiB: memory.heapUsed / MIB,
    externalMiB: memory.external / MIB,
    arrayBuffersMiB: memory.arrayBuffers / MIB,
    mallocedMiB: heap.malloced_memory / MIB,
    threads: readdirSync('/proc/self/task').length,
    anon: classify(mappings),
  };
  if (index % mapsEvery === 0) line['mappings'] = mappings.filter((m) => m.rssKiB > 0).map((m) => [m.start, m.sizeKiB, m.rssKiB, m.name]);
  appendFileSync(file!, `${JSON.stringify(line)}\n`);
}

if (leakKiBPerSecond > 0) {
  // In 64 KiB pieces, from the malloc heap or V8's, as a leak of many small objects would be.
  setInterval(() => {
    for (let kib = 0; kib < leakKiBPerSecond; kib += 64) leaked.push(Buffer.alloc(64 * KIB, kib & 0xff));
  }, 1000).unref();
}

if (file !== undefined && file !== '') {
  let index = 0;
  setInterval(() => sample(index++), everyMs).unref();
}
