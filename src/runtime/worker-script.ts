/**
 * Starts worker threads from a module beside the caller. Compiled code runs the `*.js` worker
 * directly; source code run by tsx or vitest gets the `*.ts` module through a tiny bootstrap
 * that registers tsx's loader inside the worker first (Node 20 does not honour `--import` in a
 * worker's execArgv). The same pool code therefore works in tests, `npm start` and the package.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function workerModuleUrl(callerUrl: string, baseName: string): URL {
  const fromSource = callerUrl.endsWith('.ts');
  return new URL(`./${baseName}.${fromSource ? 'ts' : 'js'}`, callerUrl);
}

export function startWorker(callerUrl: string, baseName: string, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  const url = workerModuleUrl(callerUrl, baseName);
  if (!url.pathname.endsWith('.ts')) return new Worker(url, options);
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
