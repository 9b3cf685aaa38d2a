/**
 * The service under load in its own process: `signalbank serve` from source on an ephemeral port
 * of 127.0.0.1, so that the load generator never shares the server's event loop. Its JSON log goes
 * to a file (as a deployment's would go to a collector), not through a pipe the benchmark would
 * have to drain. Answers once `/readyz` says ready, with the time from spawn to ready, the index
 * load time the service logged, and the process's memory (Linux /proc).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export { memoryOf } from './process-memory.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ServeChild {
  readonly url: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Milliseconds from spawn to the first ready answer of `/readyz`. */
  readonly readyMs: number;
  /** Milliseconds the index load took, as the service logged it. */
  readonly indexLoadMs: number;
  /** The signals the service loaded, per type. */
  readonly indexSizes: Record<string, number>;
  readonly logFile: string;
  stop(): Promise<void>;
}

export interface ServeChildOptions {
  readonly logFile: string;
  /** Extra environment (SIGNALBANK_* settings). */
  readonly env?: Record<string, string>;
  /** Extra node flags, e.g. `--cpu-prof`. */
  readonly nodeArgs?: readonly string[];
  readonly timeoutMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function logRecords(logFile: string): Record<string, unknown>[] {
  const records: Record<string, unknown>[] = [];
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      records.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a line still being written
    }
  }
  return records;
}

export async function startServeChild(dbPath: string, options: ServeChildOptions): Promise<ServeChild> {
  const out = openSync(options.logFile, 'w');
  const started = performance.now();
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', `${ROOT}src/cli/main.ts`, 'serve', '--db', dbPath, '--port', '0', '--host', '127.0.0.1'], {
    cwd: ROOT,
    env: { ...process.env, SIGNALBANK_LOG_LEVEL: 'info', ...options.env },
    stdio: ['ignore', out, 'inherit'],
  });
  closeSync(out);
  let exitCode: number | string | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exitCode = code ?? signal ?? 'unknown';
      resolve();
    }),
  );
  const deadline = started + (options.timeoutMs ?? 600_000);
  let url: string | undefined;
  let indexLoadMs = Number.NaN;
  let indexSizes: Record<string, number> = {};
  while (url === undefined) {
    if (exitCode !== undefined) throw new Error(`signalbank serve exited (${exitCode}) before listening; see ${options.logFile}`);
    if (performance.now() > deadline) throw new Error('signalbank serve did not listen in time');
    await sleep(10);
    for (const record of logRecords(options.logFile)) {
      if (record['msg'] === 'index loaded') {
        indexLoadMs = Number(record['ms']);
        indexSizes = record['indexSizes'] as Record<string, number>;
      }
      if (record['msg'] === 'listening' && typeof record['url'] === 'string') url = record['url'];
    }
  }
  for (;;) {
    const response = await fetch(`${url}/readyz`).catch(() => undefined);
    if (response?.ok) break;
    if (performance.now() > deadline) throw new Error('signalbank serve did not become ready in time');
    await sleep(5);
  }
  const readyMs = performance.now() - started;
  const pid = child.pid!;
  return {
    url,
    child,
    pid,
    readyMs,
    indexLoadMs,
    indexSizes,
    logFile: options.logFile,
    async stop() {
      if (exitCode === undefined) child.kill('SIGTERM');
      await exited;
    },
  };
}
