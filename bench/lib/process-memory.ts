/** Resident memory of a process (Linux /proc): now (VmRSS) and its peak (VmHWM); zeros once the process is gone. */
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
