/**
 * Summarises a V8 `.cpuprofile` (written by `node --cpu-prof`) of the service's main thread: self
 * time grouped into the stages a request passes through — signature verification (jose, crypto),
 * SQLite (better-sqlite3), schema validation (zod), JSON, the index, express and HTTP, logging,
 * metrics, the service's own code — and the functions with the most self time.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly hitCount?: number;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface CpuSummary {
  /** Milliseconds of profile (sampled wall time of the main thread). */
  readonly totalMs: number;
  readonly categories: { category: string; ms: number; share: number }[];
  readonly functions: { fn: string; category: string; ms: number; share: number }[];
}

const CATEGORIES: readonly [string, (fn: string, url: string) => boolean][] = [
  ['idle (waiting for I/O or workers)', (fn) => fn === '(idle)'],
  ['garbage collection', (fn) => fn === '(garbage collector)'],
  ['signature verification (jose, WebCrypto)', (_fn, url) => url.includes('/jose/') || url.includes('internal/crypto') || url.includes('/src/auth/')],
  ['SQLite (better-sqlite3)', (_fn, url) => url.includes('better-sqlite3') || url.includes('/src/store/')],
  ['schema validation (zod)', (_fn, url) => url.includes('/zod/')],
  ['index (src/index)', (_fn, url) => url.includes('/src/index/')],
  ['logging (pino)', (_fn, url) => url.includes('/pino') || url.includes('sonic-boom') || url.includes('fast-redact')],
  ['metrics (prom-client)', (_fn, url) => url.includes('prom-client')],
  ['express and its middleware', (_fn, url) => /\/(express|router|body-parser|finalhandler|send|qs|path-to-regexp|on-finished|mime-types|content-type|type-is|statuses|depd|debug)\//.test(url)],
  ['HTTP and sockets (node:http, net, streams)', (_fn, url) => /node:(internal\/)?(http|_http|net|stream|internal\/streams|internal\/http|internal\/stream_base)/.test(url) || /^node:_http/.test(url)],
  ['JSON.parse / JSON.stringify (builtins)', (fn) => fn === 'parse' || fn === 'stringify'],
  ['bank and match (src/bank, src/signals)', (_fn, url) => url.includes('/src/bank/') || url.includes('/src/signals/')],
  ['routes and app (src/api)', (_fn, url) => url.includes('/src/api/')],
  ['audit (src/audit)', (_fn, url) => url.includes('/src/audit/')],
  ['program (V8 native, not attributed)', (fn) => fn === '(program)'],
];

function categoryOf(fn: string, url: string): string {
  for (const [name, test] of CATEGORIES) if (test(fn, url)) return name;
  return url === '' ? 'native / builtins' : 'other';
}

/**
 * Summarises the main thread's `.cpuprofile` in `dir` (CPU.<date>.<time>.<pid>.<thread 0>.<seq>.cpuprofile).
 * `lastMs`: only the samples of the profile's final `lastMs` milliseconds (the load, without the start).
 */
export function summariseCpuProfile(dir: string, top = 15, lastMs = Infinity): CpuSummary {
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile') && name.split('.')[4] === '0');
  if (file === undefined) throw new Error(`no main-thread .cpuprofile in ${dir}`);
  const main = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  const byId = new Map(main.nodes.map((node) => [node.id, node]));
  const selfMs = new Map<number, number>();
  const from = main.endTime - lastMs * 1000;
  let at = main.startTime;
  let totalMs = 0;
  main.samples.forEach((id, i) => {
    const ms = (main.timeDeltas[i] ?? 0) / 1000;
    at += ms * 1000;
    if (at < from) return;
    selfMs.set(id, (selfMs.get(id) ?? 0) + ms);
    totalMs += ms;
  });
  const categories = new Map<string, number>();
  const functions = new Map<string, { category: string; ms: number }>();
  for (const [id, ms] of selfMs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const fn = functionName || '(anonymous)';
    const category = categoryOf(fn, url);
    categories.set(category, (categories.get(category) ?? 0) + ms);
    const where = url ? `${url.replace(/^.*\/(node_modules|src)\//, '$1/')}:${lineNumber + 1}` : '';
    const key = `${fn} ${where}`.trim();
    const entry = functions.get(key) ?? { category, ms: 0 };
    entry.ms += ms;
    functions.set(key, entry);
  }
  return {
    totalMs,
    categories: [...categories].map(([category, ms]) => ({ category, ms, share: ms / totalMs })).sort((a, b) => b.ms - a.ms),
    functions: [...functions]
      .map(([fn, { category, ms }]) => ({ fn, category, ms, share: ms / totalMs }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top),
  };
}
