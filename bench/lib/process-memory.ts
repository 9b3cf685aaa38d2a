/**
 * What the benchmarks read about another process from Linux /proc (their one /proc reader):
 * resident memory from /proc/PID/status — the total (VmRSS), its peak (VmHWM), and the total's
 * three parts — and the CPU time all its threads used, from /proc/PID/stat. RssAnon is the
 * process's own memory (JavaScript heap, native allocations, the index's WebAssembly memory);
 * RssFile is pages of mapped files (the node binary, shared libraries, any mmap of the database)
 * and RssShmem shared memory: those two are the page cache's, which the kernel may drop and
 * fault back at will, so they move with what other processes do, not with what this one keeps.
 * All zeros once the process is gone.
 */
import { readFileSync } from 'node:fs';

export interface ProcessMemory {
  /** VmRSS: all resident pages = anonBytes + fileBytes + shmemBytes. */
  readonly rssBytes: number;
  /** VmHWM: the largest VmRSS so far. */
  readonly peakRssBytes: number;
  /** RssAnon: resident anonymous pages, the memory the process allocated itself. */
  readonly anonBytes: number;
  /** RssFile: resident pages of mapped files. */
  readonly fileBytes: number;
  /** RssShmem: resident shared memory (System V, shared anonymous, tmpfs mappings). */
  readonly shmemBytes: number;
}

const GONE: ProcessMemory = { rssBytes: 0, peakRssBytes: 0, anonBytes: 0, fileBytes: 0, shmemBytes: 0 };

export function memoryOf(pid: number): ProcessMemory {
  let status = '';
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return GONE;
  }
  const kib = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
  return { rssBytes: kib('VmRSS'), peakRssBytes: kib('VmHWM'), anonBytes: kib('RssAnon'), fileBytes: kib('RssFile'), shmemBytes: kib('RssShmem') };
}

export function rssOf(pid: number): number {
  return memoryOf(pid).rssBytes;
}

/** CPU seconds (user + system, every thread) a process has used so far: /proc/PID/stat fields 14 and 15. */
export function cpuSecondsOf(pid: number): number {
  let stat = '';
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 0;
  }
  // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / CLOCK_TICKS_PER_SECOND;
}

/** USER_HZ: 100 on every Linux architecture Node supports. */
const CLOCK_TICKS_PER_SECOND = 100;
