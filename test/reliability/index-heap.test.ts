// The index's memory under a steady submit load: each merge that outgrows the postings' spare
// room moves every table's postings to new, larger lists; once the old ones are collected, the
// process's memory must come back down. With one buffer per table (a few MiB each) glibc's malloc
// carved every generation after the first out of its main heap, where the old ones stayed
// resident as free space: +74 MiB of heap after 12 merges at 1,000,000 hashes (docs/reliability.md).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('../support/index-heap-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe.runIf(existsSync('/proc/self/smaps'))('index memory across merges', () => {
  it('gives the postings of superseded tables back: the malloc heap stays level over 28 merges at 1,000,000 hashes', () => {
    // Without the malloc tunables that would hide the behaviour (a fixed mmap threshold).
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('MALLOC_') && name !== 'GLIBC_TUNABLES'));
    const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', CHILD], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
    expect(child.stderr).toBe('');
    const result = JSON.parse(child.stdout) as { substrings: number; moves: number; heapMiB: number[] };
    // The case in question: postings of more than a few tables, moved several times.
    expect(result.substrings).toBeGreaterThanOrEqual(10);
    expect(result.moves).toBeGreaterThanOrEqual(4);
    const growth = Math.max(...result.heapMiB) - result.heapMiB[0]!;
    expect(growth, `main heap after the build and each merge (MiB): ${result.heapMiB.map((mib) => mib.toFixed(1)).join(', ')}`).toBeLessThan(16);
  }, 60_000);
});
