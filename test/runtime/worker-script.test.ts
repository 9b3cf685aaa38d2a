import { describe, expect, it } from 'vitest';
import { startWorker, workerModuleUrl } from '../../src/runtime/worker-script.js';

describe('startWorker', () => {
  it('runs a TypeScript worker from source, with messages sent before it loaded', async () => {
    const worker = startWorker(import.meta.url, 'fixture-worker');
    const answer = new Promise<number>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    worker.postMessage(21);
    expect(await answer).toBe(42);
    await worker.terminate();
  });

  it('picks the compiled module when the caller is compiled', () => {
    expect(workerModuleUrl('file:///app/dist/hashing/pool.js', 'hash-worker').href).toBe('file:///app/dist/hashing/hash-worker.js');
  });
});
