/**
 * `signalbank serve` as a child process for the benchmarks (answers its URL once it listens; its
 * request log is read and dropped), and the resident memory of a process read from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Starts `signalbank serve` on `dbPath` (port 0, rate limit off unless `env` sets it). */
export async function serve(dbPath: string, env: Record<string, string> = {}): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', `${ROOT}src/cli/main.ts`, 'serve', '--db', dbPath, '--port', '0'], {
    cwd: ROOT,
    env: { ...process.env, SIGNALBANK_LOG_LEVEL: 'info', SIGNALBANK_RATE_LIMIT_PER_SECOND: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  for await (const line of createInterface({ input: child.stdout })) {
    const record = JSON.parse(line) as { msg?: string; url?: string };
    if (record.msg === 'listening' && record.url) {
      child.stdout.resume();
      return { url: record.url, child };
    }
  }
  throw new Error('the service stopped before it listened');
}

/** Resident memory of a process, in bytes (Linux). */
export function rssOf(pid: number): number {
  const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kib ?? 0) * 1024;
}
