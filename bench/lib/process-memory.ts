/**
 * What the benchmarks read about another process from Linux /proc (their one /proc reader):
 * resident memory from /proc/PID/status — the total (VmRSS), its peak (VmHWM), and the total's
 * three parts — and the CPU time all its threads used, from /proc/PID/stat (also thread by
 * thread, and the whole machine's from /proc/stat). RssAnon is the
 * process's own memory (JavaScript heap, native allocations, the index's WebAssembly memory);
 * RssFile is pages of mapped files (the node binary, shared libraries, any mmap of the database)
 * and RssShmem shared memory: those two are the page cache's, which the kernel may drop and
 * fault back at will, so they move with what other processes do, not with what this one keeps.
 * All zeros once the process is gone.
 */
import { readdirSync, readFileSync } from 'node:fs';

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
  return statCpuSeconds(`/proc/${pid}/stat`);
}

/** CPU seconds each thread of a process has used so far, by thread id (/proc/PID/task/TID/stat); empty once it is gone. */
export function threadCpuSecondsOf(pid: number): Map<number, number> {
  const threads = new Map<number, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return threads;
  }
  for (const tid of tids) threads.set(Number(tid), statCpuSeconds(`/proc/${pid}/task/${tid}/stat`));
  return threads;
}

/** CPU seconds the machine has been busy so far, all cores together: /proc/stat's `cpu` line less idle and iowait. */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((sum, value) => sum + value, 0);
  return (total - (ticks[3] ?? 0) - (ticks[4] ?? 0)) / CLOCK_TICKS_PER_SECOND;
}

function statCpuSeconds(path: string): number {
  let stat = '';
  try {
    stat = readFileSync(path, 'utf8');
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
