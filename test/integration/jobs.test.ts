/**
 * Batch matching jobs against the real server (real SQLite file, real signed requests, the real
 * runner on the index's worker threads): results in input order with error lines, equal to what
 * POST /v1/match answers; privacy between members; cancellation; resuming after a restart;
 * the retention sweep; refused uploads keep nothing; and a large body is stored as it arrives.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { JobResultLineSchema, JobSchema } from '../../src/api/job-schemas.js';
import { verifyLog } from '../../src/audit/verify-log.js';
import { auditLogSource } from '../../src/client/audit-log-source.js';
import { signRequest } from '../../src/client/sign-request.js';
import type { JobStatus, SignalbankClient, SubmitItem } from '../../src/client/signalbank-client.js';
import { codeOf } from '../support/error-code.js';
import { startTestService, type TestMember, type TestService } from '../support/test-service.js';
import { problemOf } from '../support/problem-answer.js';

// Real PDQ hashes from the reference vectors (bridge-mods: the original and two edits).
const ORIG = 'd8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22';
const BLUR = 'd8f8f0cce0f4e84f0637022a028f67f0b36e2ed596623e1d33e6b39c4e9c9b22';
const CONTRAST = 'd8f8f0cce0f4e84d06370a32068f67f0b36e2ed596623e1d33e6339c4e9c9b22';
const FAR = '2707f0331f0b57b0f1c8f5ddfd70980f4c91d12a699dc1e2cc194c63b16364dd';
const MD5 = '9e107d9d372bb6826bd81d3542a419d6';

const pdq = (hash: string): SubmitItem => ({ type: 'pdq', hash, labels: ['suicide'], media: 'image', quality: 95 });

async function waitForEnd(client: SignalbankClient, id: string, timeoutMs = 20_000): Promise<JobStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await client.jobStatus(id);
    if (job.status !== 'queued' && job.status !== 'running') return job;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${job.status} (${job.done}/${job.total})`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function resultLines(client: SignalbankClient, id: string): Promise<Record<string, unknown>[]> {
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of await client.jobResults(id)) text += decoder.decode(chunk, { stream: true });
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JobResultLineSchema.parse(JSON.parse(line)) as Record<string, unknown>);
}

/** A job body mixing good queries and every kind of bad line. */
const MIXED_LINES = [
  JSON.stringify({ type: 'pdq', hash: BLUR, ref: 'photo-1' }),
  'not json',
  JSON.stringify({ type: 'pdq', hash: FAR.toUpperCase() }),
  JSON.stringify({ type: 'whirlpool', hash: FAR }),
  JSON.stringify({ type: 'pdq', hash: 'abc', ref: 'photo-5' }),
  JSON.stringify({ type: 'pdq', hash: ORIG, maxDistance: 65 }),
  '',
  JSON.stringify({ type: 'md5', hash: MD5, ref: 'photo-8' }),
  JSON.stringify({ type: 'pdq', hash: CONTRAST, maxDistance: 10 }),
  JSON.stringify({ type: 'pdq', hash: ORIG, extra: true }),
  JSON.stringify({ type: 'pdq', hash: ORIG, ref: 'x'.repeat(2000) }),
  JSON.stringify({ type: 'pdq', hash: randomHash() }),
];
const MIXED_ERRORS: Record<number, string> = {
  2: 'ERR_BAD_JSON',
  4: 'ERR_UNKNOWN_TYPE',
  5: 'ERR_INVALID_HASH',
  6: 'ERR_INVALID_DISTANCE',
  7: 'ERR_VALIDATION',
  10: 'ERR_VALIDATION',
  11: 'ERR_VALIDATION',
};

function randomHash(): string {
  // 128 bits set of 256: never degenerate.
  const bits = [...Array<number>(128).fill(1), ...Array<number>(128).fill(0)].sort(() => Math.random() - 0.5);
  let hex = '';
  for (let i = 0; i < 256; i += 4) hex += ((bits[i]! << 3) | (bits[i + 1]! << 2) | (bits[i + 2]! << 1) | bits[i + 3]!).toString(16);
  return hex;
}

describe('jobs on a running service', () => {
  let t: TestService;
  let alice: TestMember;
  let matcher: TestMember;
  let other: TestMember;

  beforeAll(async () => {
    t = await startTestService({ jobMaxLineBytes: 1024 });
    alice = await t.member('alice', ['submitter', 'matcher']);
    matcher = await t.member('matcher-co', ['matcher']);
    other = await t.member('other-co', ['matcher']);
    await alice.client.submit([pdq(ORIG), pdq(FAR), pdq(CONTRAST), { type: 'md5', hash: MD5, labels: ['self_harm'], media: 'image' }]);
    const contrast = (await alice.client.findSignal('pdq', CONTRAST)) as { id: string };
    await alice.client.retract(contrast.id); // retracted: must never match
  });
  afterAll(async () => t?.stop());

  it('answers every line in input order, error lines in place, with the matches POST /v1/match answers', async () => {
    const created = await matcher.client.createJob(MIXED_LINES, { limit: 5 });
    expect(JobSchema.parse(created)).toMatchObject({ status: 'queued', total: MIXED_LINES.length, errorLines: Object.keys(MIXED_ERRORS).length, limit: 5 });
    const finished = await waitForEnd(matcher.client, created.id);
    expect(finished).toMatchObject({ status: 'done', done: MIXED_LINES.length, total: MIXED_LINES.length, eta: 0 });
    expect(finished.startedAt).toBeDefined();
    expect(finished.finishedAt).toBeDefined();

    const lines = await resultLines(matcher.client, created.id);
    expect(lines.map((line) => line['line'])).toEqual(MIXED_LINES.map((_, i) => i + 1));
    for (const [line, code] of Object.entries(MIXED_ERRORS)) expect((lines[Number(line) - 1]!['error'] as { code: string }).code).toBe(code);
    expect(lines[0]!['ref']).toBe('photo-1');
    expect(lines[4]!['ref']).toBe('photo-5'); // refused, still traceable
    expect(lines[7]!['ref']).toBe('photo-8');

    const valid = MIXED_LINES.map((text, i) => ({ text, line: i + 1 })).filter(({ line }) => MIXED_ERRORS[line] === undefined);
    const queries = valid.map(({ text }) => {
      const { type, hash, maxDistance } = JSON.parse(text) as { type: string; hash: string; maxDistance?: number };
      return { type, hash, ...(maxDistance !== undefined && { maxDistance }) };
    });
    const { results } = await matcher.client.match(queries, { limit: 5 });
    valid.forEach(({ line }, i) => expect(lines[line - 1]!['matches']).toEqual((results[i] as { matches: unknown[] }).matches));
    // Real hits: BLUR finds ORIG, the upper-case FAR finds FAR, md5 finds itself; CONTRAST is retracted, so
    // neither BLUR nor CONTRAST itself finds it.
    const hashes = (line: Record<string, unknown>) => (line['matches'] as { hash: string }[]).map((m) => m.hash);
    expect(hashes(lines[0]!)).toEqual([ORIG]);
    expect(hashes(lines[2]!)).toEqual([FAR]);
    expect(hashes(lines[7]!)).toEqual([MD5]);
    expect(hashes(lines[8]!)).toEqual([ORIG]);
    expect(lines[11]!['matches']).toEqual([]);

    const listed = await matcher.client.listJobs();
    expect(listed.jobs.map((job) => job.id)).toContain(created.id);
  });

  it('answers blocks of many queries (read in parts) line for line as POST /v1/match does', async () => {
    // 700 lines: the first block holds 512, whose matched signals are read in parts; refused lines sit between parts.
    const near = [ORIG, BLUR, FAR, MD5];
    const lines = Array.from({ length: 700 }, (_, i) => {
      if (i % 97 === 50) return 'not json';
      const hash = i % 5 === 0 ? randomHash() : near[i % near.length]!;
      return JSON.stringify({ type: hash.length === 32 ? 'md5' : 'pdq', hash, ref: `r${i + 1}` });
    });
    const created = await matcher.client.createJob(lines, { limit: 5 });
    const finished = await waitForEnd(matcher.client, created.id);
    expect(finished).toMatchObject({ status: 'done', done: lines.length, errorLines: 7 });
    const results = await resultLines(matcher.client, created.id);
    expect(results.map((result) => result['line'])).toEqual(lines.map((_, i) => i + 1));
    const valid = lines.map((text, i) => ({ text, line: i + 1 })).filter(({ text }) => text !== 'not json');
    const { results: expected } = await matcher.client.match(
      valid.map(({ text }) => {
        const { type, hash } = JSON.parse(text) as { type: string; hash: string };
        return { type, hash };
      }),
      { limit: 5 },
    );
    valid.forEach(({ line }, i) => expect({ line, matches: results[line - 1]!['matches'] }).toEqual({ line, matches: (expected[i] as { matches: unknown[] }).matches }));
    expect(results.filter((result) => (result['matches'] as unknown[] | undefined)?.length).length).toBeGreaterThan(400);
  });

  it('shows a job only to its owner: another member gets 404 for status, results and cancel', async () => {
    const created = await matcher.client.createJob([{ type: 'pdq', hash: ORIG }]);
    expect(await codeOf(other.client.jobStatus(created.id))).toBe('ERR_NOT_FOUND');
    expect(await codeOf(other.client.jobResults(created.id))).toBe('ERR_NOT_FOUND');
    expect(await codeOf(other.client.cancelJob(created.id))).toBe('ERR_NOT_FOUND');
    expect(await codeOf(other.client.jobStatus('no-such-job'))).toBe('ERR_NOT_FOUND');
    expect((await other.client.listJobs()).jobs).toEqual([]);
    expect(await codeOf(t.admin.client.jobStatus(created.id))).toBe('ERR_FORBIDDEN'); // no matcher role
    await waitForEnd(matcher.client, created.id);
  });

  it('refuses a body of another media type, or whose digest does not match, and keeps nothing', async () => {
    const jobsBefore = t.service.store.db.prepare('SELECT count(*) AS n FROM jobs').get() as { n: number };
    const wrongType = await signedPost(matcher, '/v1/jobs', Buffer.from('{"type":"pdq"}\n'), 'application/json');
    expect(await problemOf(wrongType)).toEqual({ status: 415, code: 'ERR_UNSUPPORTED_MEDIA_TYPE' });
    const body = Buffer.from(`${JSON.stringify({ type: 'pdq', hash: ORIG })}\n`);
    const badDigest = await signedPost(matcher, '/v1/jobs', body, 'application/ndjson', createHash('sha256').update('other').digest('base64url'));
    expect(await problemOf(badDigest)).toEqual({ status: 401, code: 'ERR_BODY_DIGEST' });
    const empty = await signedPost(matcher, '/v1/jobs', Buffer.alloc(0), 'application/x-ndjson');
    expect((await problemOf(empty)).status).toBe(400);
    expect(t.service.store.db.prepare('SELECT count(*) AS n FROM jobs').get()).toEqual(jobsBefore);
    const accepted = await signedPost(matcher, '/v1/jobs?limit=3', body, 'application/ndjson');
    expect(accepted.status).toBe(202);
    const job = JobSchema.parse(await accepted.json());
    expect(accepted.headers.get('location')).toBe(`/v1/jobs/${job.id}`);
    await waitForEnd(matcher.client, job.id);
  });

  it('stores a large body as it arrives (nothing buffers it whole) and keeps the heap bounded', async () => {
    const lineCount = 200_000;
    const line = (i: number) => `${JSON.stringify({ type: 'md5', hash: createHash('md5').update(String(i)).digest('hex'), ref: `r${i}` })}\n`;
    const half = lineCount / 2;
    const first = Buffer.from(Array.from({ length: half }, (_, i) => line(i)).join(''));
    const second = Buffer.from(Array.from({ length: half }, (_, i) => line(half + i)).join(''));
    const digest = createHash('sha256').update(first).update(second).digest('base64url');
    const stored = () =>
      (t.service.store.db.prepare(`SELECT coalesce(sum(last_line - first_line + 1), 0) AS n FROM job_query_blocks q JOIN jobs j ON j.id = q.job_id WHERE j.status = 'receiving'`).get() as { n: number }).n;

    let releaseSecondHalf!: () => void;
    const secondHalfMayGo = new Promise<void>((resolve) => (releaseSecondHalf = resolve));
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        for (let offset = 0; offset < first.length; offset += 65_536) controller.enqueue(first.subarray(offset, offset + 65_536));
        await secondHalfMayGo;
        for (let offset = 0; offset < second.length; offset += 65_536) controller.enqueue(second.subarray(offset, offset + 65_536));
        controller.close();
      },
    });
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    let heapPeak = heapBefore;
    const sampler = setInterval(() => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)), 5);
    const answer = signedPost(matcher, '/v1/jobs', body, 'application/x-ndjson', digest);
    // The first half is in the database while the second has not been sent.
    const deadline = Date.now() + 15_000;
    while (stored() < half - 10_000 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(stored()).toBeGreaterThanOrEqual(half - 10_000);
    releaseSecondHalf();
    const response = await answer;
    clearInterval(sampler);
    expect(response.status).toBe(202);
    const job = JobSchema.parse(await response.json());
    expect(job.total).toBe(lineCount);
    // Received blocks are written without waiting for the disk; the connection is back to FULL after.
    expect(t.service.store.db.pragma('synchronous', { simple: true })).toBe(2);
    // The body is ~13 MB; holding it (as strings, twice the bytes) would show here.
    expect(heapPeak - heapBefore).toBeLessThan(64 * 1024 * 1024);
    const finished = await waitForEnd(matcher.client, job.id, 60_000);
    expect(finished).toMatchObject({ status: 'done', done: lineCount, errorLines: 0 });
    // So are answered blocks, and the connection is back to FULL after them too.
    expect(t.service.store.db.pragma('synchronous', { simple: true })).toBe(2);
  }, 90_000);

  it('lists jobs in /openapi.json and counts them in /metrics', async () => {
    const doc = (await (await fetch(`${t.service.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> } }>> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/jobs', '/v1/jobs/{id}', '/v1/jobs/{id}/results']));
    expect(Object.keys(doc.paths['/v1/jobs']!['post']!.requestBody!.content)).toEqual(['application/x-ndjson', 'application/ndjson']);
    const metrics = await (await fetch(`${t.service.url}/metrics`)).text();
    expect(metrics).toMatch(/signalbank_jobs\{status="done"\} [1-9]/);
    expect(metrics).toMatch(/signalbank_job_queries_total\{type="pdq"\} [1-9]/);
  });
});

describe('jobs across restarts, cancellation and retention', () => {
  let t: TestService;
  let matcher: TestMember;
  let other: TestMember;
  const lines = Array.from({ length: 20 }, (_, i) => (i === 4 ? 'bad line' : JSON.stringify({ type: 'pdq', hash: i % 3 === 0 ? BLUR : randomHash(), ref: `r${i + 1}` })));

  beforeAll(async () => {
    // Stored and recorded in blocks of 3 lines, searched 7 queries or more at a time: batches of several blocks.
    t = await startTestService({ jobRunnerPaused: true, jobChunkSize: 3, jobSearchBatch: 7, jobMaxLines: 100, jobRetentionMs: 60_000 });
    const alice = await t.member('alice', ['submitter', 'matcher']);
    matcher = await t.member('matcher-co', ['matcher']);
    other = await t.member('other-co', ['matcher']);
    await alice.client.submit([pdq(ORIG)]);
  });
  afterAll(async () => t?.stop());

  it('refuses a body of more lines than the limit and keeps nothing of it', async () => {
    const code = await codeOf(matcher.client.createJob(Array.from({ length: 101 }, () => ({ type: 'pdq', hash: ORIG }))));
    expect(code).toBe('ERR_TOO_LARGE');
    for (const table of ['jobs', 'job_query_blocks', 'job_result_blocks']) expect(t.service.store.db.prepare(`SELECT count(*) AS n FROM ${table}`).get()).toEqual({ n: 0 });
  });

  it('cancels a queued job (audited), keeps its answered lines, and refuses to cancel it twice', async () => {
    const created = await matcher.client.createJob(lines);
    expect(created.status).toBe('queued');
    const cancelled = await matcher.client.cancelJob(created.id);
    expect(cancelled).toMatchObject({ status: 'cancelled', done: 1 });
    expect((await matcher.client.jobStatus(created.id)).status).toBe('cancelled');
    expect(await codeOf(matcher.client.cancelJob(created.id))).toBe('ERR_CONFLICT');
    expect((await resultLines(matcher.client, created.id)).map((line) => line['line'])).toEqual([5]);
    const actions = (await t.service.store.listAuditEntries({ after: 0, limit: 1000 })).filter((entry) => entry.subject === created.id).map((entry) => [entry.action, entry.actor]);
    expect(actions).toEqual([
      ['job.create', 'matcher-co'],
      ['job.cancel', 'matcher-co'],
    ]);
    await t.service.jobs.retention.sweep();
    expect(t.service.store.db.prepare('SELECT count(*) AS n FROM job_query_blocks').get()).toEqual({ n: 0 });
    // The sweep dropped the queries it will never run, and kept the refused line's result.
    expect((await resultLines(matcher.client, created.id)).map((line) => line['line'])).toEqual([5]);
    expect((await matcher.client.jobStatus(created.id)).done).toBe(1);
    // An auditor's verification accepts the job entries and their request signatures.
    const auditor = await t.member('auditor-co', ['auditor']);
    const verified = await verifyLog(auditLogSource(auditor.client));
    expect(verified.findings).toEqual([]);
    expect(verified.ok).toBe(true);
  });

  it('resumes a running job after a restart from its first unanswered line, with the right results', async () => {
    const created = await matcher.client.createJob(lines, { limit: 2 });
    // By hand (the runner is paused): start the job and answer one chunk of three queries.
    expect(await t.service.jobs.runner.step()).toBe(true);
    expect(await t.service.jobs.runner.step()).toBe(true);
    const partway = await matcher.client.jobStatus(created.id);
    expect(partway).toMatchObject({ status: 'running', done: 4 }); // 3 answered + the refused line 5
    expect(await codeOf(matcher.client.jobResults(created.id))).toBe('ERR_CONFLICT');

    await t.restart({ jobRunnerPaused: false });
    const finished = await waitForEnd(matcher.client, created.id);
    expect(finished).toMatchObject({ status: 'done', done: 20, total: 20 });
    const results = await resultLines(matcher.client, created.id);
    expect(results.map((line) => line['line'])).toEqual(lines.map((_, i) => i + 1));
    expect(results.map((line) => line['ref'])).toEqual(lines.map((_, i) => (i === 4 ? undefined : `r${i + 1}`)));
    results.forEach((line, i) => {
      if (i === 4) expect(line['error']).toMatchObject({ code: 'ERR_BAD_JSON' });
      else expect((line['matches'] as { hash: string }[]).map((m) => m.hash)).toEqual(i % 3 === 0 ? [ORIG] : []);
    });
  });

  it('picks up a job that was queued when the service stopped', async () => {
    await t.restart({ jobRunnerPaused: true });
    const created = await matcher.client.createJob([{ type: 'pdq', hash: BLUR }]);
    await t.restart({ jobRunnerPaused: false });
    expect(await waitForEnd(matcher.client, created.id)).toMatchObject({ status: 'done', done: 1 });
  });

  it('removes finished jobs and their results once the retention time has passed', async () => {
    const created = await other.client.createJob([{ type: 'pdq', hash: BLUR }]);
    await waitForEnd(other.client, created.id);
    expect(await t.service.jobs.retention.sweep()).toBe(0); // not old enough yet
    expect((await other.client.jobStatus(created.id)).status).toBe('done');
    t.now += 61_000;
    expect(await t.service.jobs.retention.sweep()).toBeGreaterThanOrEqual(1);
    expect(await codeOf(other.client.jobStatus(created.id))).toBe('ERR_NOT_FOUND');
    for (const table of ['jobs', 'job_query_blocks', 'job_result_blocks']) expect(t.service.store.db.prepare(`SELECT count(*) AS n FROM ${table}`).get()).toEqual({ n: 0 });
  });
});

/** A signed POST whose body (bytes or a stream) is sent as given; `digest` overrides the signed one. */
async function signedPost(member: TestMember, target: string, body: Buffer | ReadableStream<Uint8Array>, contentType: string, digest?: string): Promise<Response> {
  const authorization = await signRequest(
    member.key,
    { method: 'POST', target, ...(body instanceof Buffer ? { body } : {}), ...(digest !== undefined && { bodyDigest: digest }) },
    { jti: randomBytes(18).toString('base64url') },
  );
  return fetch(`${member.client.baseUrl}${target}`, { method: 'POST', headers: { authorization, 'content-type': contentType }, body, duplex: 'half' });
}
