/**
 * Writing a long streamed answer (exports, job results) with back-pressure: each write waits
 * for the socket to drain when its buffer is full, and stops once the client has gone away.
 */
import type { Response } from 'express';

/** Writes with back-pressure; answers false when the client went away. */
export async function writeChunk(res: Response, chunk: string): Promise<boolean> {
  if (res.destroyed) return false;
  if (!res.write(chunk)) {
    // Listeners are removed whichever event comes first, so a long answer does not pile them up.
    await new Promise<void>((resolve) => {
      const done = (): void => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  }
  return !res.destroyed;
}
