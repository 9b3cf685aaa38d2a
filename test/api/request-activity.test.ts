/**
 * The count of requests in flight that the job runner defers to: a request counts from its
 * headers to its response's end (or its connection's loss), `whenQuiet` waits for none to be in
 * flight, and never longer than its cap.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isBulkTransfer, RequestActivity } from '../../src/api/request-activity.js';

let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** A server whose responses are held until the test ends them. */
async function heldServer(activity: RequestActivity): Promise<{ port: number; held: ServerResponse[] }> {
  const held: ServerResponse[] = [];
  server = createServer((_request, response) => held.push(response));
  activity.track(server);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, held };
}

function send(port: number, method = 'GET', path = '/'): { answered: Promise<void>; abort: () => void } {
  const controller = new AbortController();
  const answered = new Promise<void>((resolve) => {
    const outgoing = request({ host: '127.0.0.1', port, method, path, signal: controller.signal }, (response) => {
      response.resume();
      response.on('end', resolve);
    });
    outgoing.on('error', () => resolve());
    outgoing.end();
  });
  return { answered, abort: () => controller.abort() };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 2));
}

describe('RequestActivity', () => {
  it('is quiet at once when no request is in flight', async () => {
    const activity = new RequestActivity();
    await heldServer(activity);
    const started = performance.now();
    await activity.whenQuiet(5_000);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('counts a request until its response ends, and wakes the waiters then', async () => {
    const activity = new RequestActivity();
    const { port, held } = await heldServer(activity);
    const first = send(port);
    const second = send(port);
    await until(() => held.length === 2);
    expect(activity.requestsInFlight).toBe(2);
    let quiet = false;
    const waiting = activity.whenQuiet(20_000).then(() => (quiet = true));
    held[0]!.end('one');
    await first.answered;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(quiet).toBe(false); // the second is still in flight
    held[1]!.end('two');
    await second.answered;
    await waiting;
    expect(activity.requestsInFlight).toBe(0);
  });

  it('stops counting a request whose client went away', async () => {
    const activity = new RequestActivity();
    const { port, held } = await heldServer(activity);
    const sent = send(port);
    await until(() => held.length === 1);
    sent.abort();
    await until(() => activity.requestsInFlight === 0);
  });

  it('waits no longer than its cap while a request stays in flight', async () => {
    const activity = new RequestActivity();
    const { port, held } = await heldServer(activity);
    send(port);
    await until(() => held.length === 1);
    const started = performance.now();
    await activity.whenQuiet(50);
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(45);
    expect(waited).toBeLessThan(2_000);
    expect(activity.requestsInFlight).toBe(1);
  });

  it('does not count bulk transfers: a job upload, the results of a job, the audit export', async () => {
    const activity = new RequestActivity();
    const { port, held } = await heldServer(activity);
    const bulk = [send(port, 'POST', '/v1/jobs?limit=5'), send(port, 'GET', '/v1/jobs/abc/results'), send(port, 'GET', '/v1/audit/export?format=csv')];
    await until(() => held.length === 3);
    expect(activity.requestsInFlight).toBe(0);
    const single = send(port, 'GET', '/v1/jobs/abc');
    await until(() => held.length === 4);
    expect(activity.requestsInFlight).toBe(1);
    for (const response of held) response.end();
    await Promise.all([...bulk, single].map((sent) => sent.answered));
    await until(() => activity.requestsInFlight === 0);
  });

  it('tells bulk transfers by method and path', () => {
    expect(isBulkTransfer('POST', '/v1/jobs')).toBe(true);
    expect(isBulkTransfer('GET', '/v1/jobs/x/results')).toBe(true);
    expect(isBulkTransfer('GET', '/v1/audit/export')).toBe(true);
    expect(isBulkTransfer('GET', '/v1/jobs')).toBe(false);
    expect(isBulkTransfer('GET', '/v1/jobs/x')).toBe(false);
    expect(isBulkTransfer('DELETE', '/v1/jobs/x')).toBe(false);
    expect(isBulkTransfer('POST', '/v1/match')).toBe(false);
    expect(isBulkTransfer('GET', '/v1/match?type=pdq')).toBe(false);
    expect(isBulkTransfer('GET', '/v1/audit/exports')).toBe(false);
    expect(isBulkTransfer(undefined, undefined)).toBe(false);
  });
});
