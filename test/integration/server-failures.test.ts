/**
 * A failure inside the service (a search worker that throws, a bug) reaches the client as its
 * code and a fixed text — never the failure's own words, which may hold a stack, a path or
 * SQLite's message (SPEC §4: "No stack trace ever reaches a client") — and reaches the operator
 * in full, in the log. Covers the problem answers, the per-query errors of a batch match and a
 * failed job's reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { OperationError } from '../../src/errors.js';
import type { HammingIndex } from '../../src/index/hamming-index.js';
import { LinearScanIndex } from '../../src/index/linear-scan-index.js';
import { startTestService, type TestMember, type TestService } from '../support/test-service.js';

const ORIG = 'd8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22';
/** What a worker's failure looks like inside the service: a stack with a path. */
const INTERNALS = 'search worker failed: Error: table 7 is torn\n    at secretFunction (/srv/signalbank/src/index/mih/table-search.ts:12:7)';

/** An index whose searches fail while `failing` says so: coded (a worker's failure) or a bare bug. */
class FailingIndex extends LinearScanIndex {
  static failing: 'coded' | 'uncoded' | undefined;

  private fail(): void {
    if (FailingIndex.failing === 'coded') throw new OperationError('ERR_INTERNAL', INTERNALS);
    if (FailingIndex.failing === 'uncoded') throw new Error(`SQLITE_CORRUPT at /srv/signalbank/data/bank.db ${INTERNALS}`);
  }

  override search(...args: Parameters<HammingIndex['search']>): ReturnType<HammingIndex['search']> {
    this.fail();
    return super.search(...args);
  }

  override async searchMany(...args: Parameters<HammingIndex['searchMany']>): ReturnType<HammingIndex['searchMany']> {
    this.fail();
    return super.searchMany(...args);
  }
}

describe('failures inside the service', () => {
  let bank: TestService;
  let member: TestMember;
  const logLines: string[] = [];

  beforeAll(async () => {
    const logStream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString('utf8'));
        done();
      },
    });
    bank = await startTestService({}, { createIndex: () => new FailingIndex(), logger: pino({ level: 'info' }, logStream) });
    member = await bank.member('acme', ['submitter', 'matcher']);
    await member.client.submit([{ type: 'pdq', hash: ORIG, labels: ['suicide'], media: 'image', quality: 95 }]);
  });
  afterAll(async () => {
    FailingIndex.failing = undefined;
    await bank?.stop();
  });

  /** The answer's text holds nothing of the failure's own words. */
  function expectNoInternals(text: string): void {
    for (const secret of ['torn', 'secretFunction', '/srv/', 'SQLITE_CORRUPT', ' at ']) expect(text).not.toContain(secret);
  }

  for (const kind of ['coded', 'uncoded'] as const) {
    it(`answers a ${kind} failure of a match with ERR_INTERNAL and a fixed text, and logs it in full`, async () => {
      FailingIndex.failing = kind;
      logLines.length = 0;
      const single = await member.client.send('GET', `/v1/match?type=pdq&hash=${ORIG}`);
      const batch = await member.client.send('POST', '/v1/match', { queries: [{ type: 'pdq', hash: ORIG }] });
      FailingIndex.failing = undefined;
      for (const answer of [single, batch]) {
        expect(answer.status).toBe(500);
        expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(answer.body).toMatchObject({ code: 'ERR_INTERNAL', status: 500, detail: 'The server could not complete this request; it has been logged' });
        expectNoInternals(JSON.stringify(answer.body));
      }
      const logged = logLines.filter((line) => line.includes('table 7 is torn'));
      expect(logged.length).toBe(2);
      for (const line of logged) expect(JSON.parse(line)).toMatchObject({ level: 50, msg: 'unexpected error' });
      // And the service is fine once the index is.
      expect((await member.client.send('GET', `/v1/match?type=pdq&hash=${ORIG}`)).status).toBe(200);
    });
  }

  it("gives a failed job the fixed text as its reason, and logs the failure's own words", async () => {
    FailingIndex.failing = 'coded';
    logLines.length = 0;
    const created = await member.client.createJob([{ type: 'pdq', hash: ORIG }]);
    const deadline = Date.now() + 20_000;
    let job = created;
    while (job.status === 'queued' || job.status === 'running') {
      if (Date.now() > deadline) throw new Error(`job still ${job.status}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
      job = await member.client.jobStatus(created.id);
    }
    FailingIndex.failing = undefined;
    expect(job.status).toBe('failed');
    expect(job.error).toEqual({ code: 'ERR_INTERNAL', message: 'The server could not complete this request; it has been logged' });
    expectNoInternals(JSON.stringify(job));
    expect(logLines.some((line) => line.includes('table 7 is torn') && line.includes('job matching failed'))).toBe(true);
  });
});
