// A tiny worker used only by worker-script.test.ts: echoes a typed value back.
import { parentPort } from 'node:worker_threads';
const double = (n: number): number => n * 2;
parentPort?.on('message', (n: number) => parentPort?.postMessage(double(n)));
