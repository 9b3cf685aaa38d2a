/**
 * Counts the HTTP requests the service is answering, so that background work on the request
 * thread (the job runner's steps) can wait for a moment when none is in flight instead of
 * delaying one. A request counts from its headers being parsed until its response is closed.
 * The wait is capped, so that steady traffic slows background work but never stops it.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

const BULK_GET = /^\/v1\/(?:jobs\/[^/?]+\/results|audit\/export)(?:[?]|$)/;

/** A job upload, a job's results or the audit export: long transfers nobody waits on line by line. */
export function isBulkTransfer(method: string | undefined, url: string | undefined): boolean {
  if (url === undefined) return false;
  if (method === 'POST') return url === '/v1/jobs' || url.startsWith('/v1/jobs?');
  return method === 'GET' && BULK_GET.test(url);
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class RequestActivity {
  private inFlight = 0;
  private waiters: (() => void)[] = [];

  /** Counts every request `server` receives, except bulk transfers. */
  track(server: Server): void {
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      if (isBulkTransfer(request.method, request.url)) return;
      this.inFlight++;
      response.once('close', () => this.ended());
    });
  }

  get requestsInFlight(): number {
    return this.inFlight;
  }

  /**
   * Resolves once no request is in flight, or after `maxWaitMs`. It first lets the event loop
   * take in what has arrived (a request whose bytes are waiting is counted once parsed).
   */
  async whenQuiet(maxWaitMs: number): Promise<void> {
    await nextTurn();
    if (this.inFlight === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, maxWaitMs);
      const waiters = this.waiters;
      function done(): void {
        clearTimeout(timer);
        const at = waiters.indexOf(done);
        if (at >= 0) waiters.splice(at, 1);
        resolve();
      }
      waiters.push(done);
    });
    // Requests that arrived meanwhile are parsed before the caller's step runs.
    await nextTurn();
  }

  private ended(): void {
    this.inFlight--;
    if (this.inFlight > 0 || this.waiters.length === 0) return;
    for (const wake of [...this.waiters]) wake();
  }
}
