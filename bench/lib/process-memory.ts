/**
 * What the benchmarks read about another process from Linux /proc: resident memory now (VmRSS)
 * and its peak (VmHWM), and CPU time used by all its threads. Zeros once the process is gone.
 */
import { readFileSync } from 'node:fs';

export function memoryOf(pid: number): { rssBytes: number; peakRssBytes: number } {
  let status = '';
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return { rssBytes: 0, peakRssBytes: 0 };
  }
  const kib = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
  return { rssBytes: kib('VmRSS'), peakRssBytes: kib('VmHWM') };
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
