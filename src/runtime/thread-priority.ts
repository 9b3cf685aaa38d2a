/**
 * Lowers the scheduling priority of the calling thread (Linux: `setpriority` on the thread id,
 * found through /proc/thread-self), so that background work in a worker thread — keeping the
 * audit tree, batch matching — yields the CPU to the thread answering requests. Best effort:
 * elsewhere, or without permission, nothing changes.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** Answers whether the priority was lowered. `niceness` 0 (normal) … 19 (lowest). */
export function lowerThreadPriority(niceness = 10): boolean {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
    if (!Number.isInteger(tid) || tid <= 0) return false;
    setPriority(tid, niceness);
    return true;
  } catch {
    return false;
  }
}
