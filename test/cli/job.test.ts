/**
 * `signalbank job` through the real CLI against a real server: a directory of fixture images is
 * hashed locally, uploaded as a job, followed and its results downloaded in file order; an
 * NDJSON hash file is sent with --no-wait and followed with `job status`, `job results` and
 * `job cancel`; exit codes tell whether everything succeeded.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, PROJECT_ROOT, runCli } from '../support/run-cli.js';
import { startTestService, type TestService } from '../support/test-service.js';

// The full-resolution PDQ of bridge-mods/aaa-orig.jpg (fixtures/pdq/expected.csv, cpp_hash_noresize).
const ORIG_PDQ = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';
const IMAGES = ['bridge-mods/aaa-orig.jpg', 'bridge-mods/blur-a-lot.jpg', 'misc-images/wee.jpg'];

let t: TestService;
let env: Record<string, string>;
let photos: string;

beforeAll(async () => {
  t = await startTestService({}, { realClock: true }); // the CLI signs at real time
  const member = await t.member('acme', ['submitter', 'matcher']);
  await member.client.submit([{ type: 'pdq', hash: ORIG_PDQ, labels: ['suicide'], media: 'image', quality: 100 }]);
  const keyPath = join(t.dir, 'acme.private.jwk.json');
  writeFileSync(keyPath, JSON.stringify(member.privateJwk));
  env = { SIGNALBANK_URL: t.service.url, SIGNALBANK_MEMBER: 'acme', SIGNALBANK_KEY: keyPath };
  photos = join(t.dir, 'photos');
  mkdirSync(photos);
  IMAGES.forEach((image, i) => copyFileSync(join(PROJECT_ROOT, 'fixtures/pdq', image), join(photos, `${i}-${image.split('/')[1]}`)));
});
afterAll(async () => t?.stop());

describe('signalbank job', () => {
  it('hashes a directory locally, runs it as a job and writes the results in file order', async () => {
    const out = join(t.dir, 'results.ndjson');
    const result = await runCli(['job', photos, '--out', out, '--json'], { env, cwd: t.dir });
    expect(result.stderr).not.toContain('ERR_');
    expect(result.code).toBe(0);
    const [summary] = jsonLines(result.stdout);
    expect(summary).toMatchObject({ status: 'done', total: 3, done: 3, errorLines: 0, skipped: 0, results: { lines: 3, withMatches: 2, errors: 0, out } });
    const lines = jsonLines(readFileSync(out, 'utf8'));
    expect(lines.map((line) => line['line'])).toEqual([1, 2, 3]);
    expect(lines.map((line) => line['ref'])).toEqual(['photos/0-aaa-orig.jpg', 'photos/1-blur-a-lot.jpg', 'photos/2-wee.jpg']);
    const [orig, blur, wee] = lines.map((line) => line['matches'] as { hash: string; distance: number }[]);
    expect(orig).toEqual([expect.objectContaining({ hash: ORIG_PDQ, distance: 0 })]);
    expect(blur?.[0]?.hash).toBe(ORIG_PDQ);
    expect(blur?.[0]?.distance).toBeGreaterThan(0);
    expect(wee).toEqual([]);
  });

  it('reads an NDJSON hash file, returns at once with --no-wait, and follows the job with its subcommands', async () => {
    const hashes = join(t.dir, 'hashes.ndjson');
    writeFileSync(hashes, [JSON.stringify({ file: 'a.jpg', pdq: ORIG_PDQ, pdqQuality: 100 }), JSON.stringify({ type: 'pdq', hash: 'not-hex' }), JSON.stringify({ file: 'b.jpg', error: { code: 'ERR_UNSUPPORTED_IMAGE', message: 'x' } })].join('\n'));
    const started = await runCli(['job', hashes, '--no-wait', '--json'], { env, cwd: t.dir });
    // A skipped input (b.jpg failed to hash) and a refused line: not everything succeeded.
    expect(started.code).toBe(1);
    expect(started.stderr).toContain('skipped');
    const [created] = jsonLines(started.stdout) as [{ id: string; total: number; errorLines: number; skipped: number }];
    expect(created).toMatchObject({ total: 2, errorLines: 1, skipped: 1 });

    let status: Record<string, unknown> = {};
    for (let i = 0; i < 50 && status['status'] !== 'done'; i++) {
      const answer = await runCli(['job', 'status', created.id, '--json'], { env });
      expect({ code: answer.code, stderr: answer.stderr }).toEqual({ code: 0, stderr: '' });
      status = jsonLines(answer.stdout)[0]!;
    }
    expect(status).toMatchObject({ id: created.id, status: 'done', done: 2 });

    const out = join(t.dir, 'hash-results.ndjson');
    const results = await runCli(['job', 'results', created.id, '--out', out, '--json'], { env });
    expect(results.code).toBe(1); // one error line
    const lines = jsonLines(readFileSync(out, 'utf8'));
    expect(lines[0]).toMatchObject({ line: 1, ref: 'a.jpg', matches: [expect.objectContaining({ hash: ORIG_PDQ })] });
    expect(lines[1]).toMatchObject({ line: 2, error: { code: 'ERR_INVALID_HASH' } });

    const cancel = await runCli(['job', 'cancel', created.id, '--json'], { env });
    expect(cancel.code).toBe(1);
    expect(cancel.stderr).toContain('ERR_CONFLICT');
  });
});
