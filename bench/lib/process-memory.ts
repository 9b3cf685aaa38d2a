/** Resident memory of a process, in bytes (Linux /proc); 0 once the process is gone. */
import { readFileSync } from 'node:fs';

export function rssOf(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}
