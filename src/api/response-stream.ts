/**
 * Writing a long streamed answer (exports, job results) with back-pressure: each write waits
 * for the socket to drain when its buffer is full, and stops once the client has gone away.
 */
import type { Response } from 'express';
import { once } from 'node:events';

/** Writes with back-pressure; answers false when the client went away. */
export async function writeChunk(res: Response, chunk: string): Promise<boolean> {
  if (res.destroyed) return false;
  if (!res.write(chunk)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
  return !res.destroyed;
}
