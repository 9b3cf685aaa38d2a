/**
 * The member's whole command-line workflow (issue 6), as one continuous run of the real CLI
 * against one real server: the admin registers a member and its key; the member hashes a folder,
 * submits the hashes (labels from a flag) and a CSV (labels per line), matches an image file
 * (hashed locally: the server sees only a small match request) and a hash, runs a folder as a
 * batch job, syncs a mirror and matches offline with the same answer. Progress bars go to
 * stderr while stdout stays parseable. Settings come from the
 * environment for some steps and from flags for others; every step runs with `--json` and its
 * output is parsed; a non-image in a folder fails only itself and sets exit code 1.
 */
import type { IncomingMessage } from 'node:http';
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, PROJECT_ROOT, runCli } from '../support/run-cli.js';
import { startTestService, type TestService } from '../support/test-service.js';

// Full-resolution PDQ hashes from fixtures/pdq/expected.csv (cpp_hash_noresize).
const ORIG_PDQ = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';
const WEE_PDQ = '6227401f601ff4ccafcc9fad4b0d95d371a2eb7265a3285234d228ca94deeb2d';
const FIXTURE = (path: string) => join(PROJECT_ROOT, 'fixtures/pdq', path);
const NOT_AN_IMAGE = FIXTURE('PROVENANCE.md');

interface Match {
  id: string;
  hash: string;
  distance: number;
  labels: string[];
}

let t: TestService;
/** Method, path and declared body size of each request the server received. */
const requests: { method: string; path: string; bytes: number }[] = [];

beforeAll(async () => {
  t = await startTestService();
  t.service.server.on('request', (req: IncomingMessage) => requests.push({ method: req.method ?? '', path: (req.url ?? '').split('?')[0]!, bytes: Number(req.headers['content-length'] ?? 0) }));
});
afterAll(async () => t?.stop());

function folder(name: string, files: Record<string, string>): string {
  const dir = join(t.dir, name);
  mkdirSync(dir);
  for (const [target, source] of Object.entries(files)) copyFileSync(source, join(dir, target));
  return dir;
}

describe('the member journey through the CLI', () => {
  it('keygen → member/key add → hash → submit (NDJSON, CSV) → match (file, hash) → job → sync → match --mirror', async () => {
    const cwd = t.dir;
    const adminEnv = { SIGNALBANK_URL: t.service.url, SIGNALBANK_MEMBER: 'admin', SIGNALBANK_KEY: t.service.initialised!.admin!.privateKeyPath };
    const keyPath = join(t.dir, 'acme.private.jwk.json');
    // Flags for the member on some steps, the environment on others.
    const acmeFlags = ['--server', t.service.url, '--member', 'acme', '--key', keyPath];
    const acmeEnv = { SIGNALBANK_URL: t.service.url, SIGNALBANK_MEMBER: 'acme', SIGNALBANK_KEY: keyPath };

    // 1. The admin registers the member with the roles the workflow needs, and its public key.
    const keygen = await runCli(['keygen', '--out', keyPath, '--json'], { cwd });
    expect(keygen.code).toBe(0);
    const [generated] = jsonLines(keygen.stdout) as [{ kid: string; publicJwk: Record<string, unknown>; privateKeyPath: string }];
    expect(generated.privateKeyPath).toBe(keyPath);
    expect(generated.publicJwk['d']).toBeUndefined();
    const publicPath = join(t.dir, 'acme.public.jwk.json');
    writeFileSync(publicPath, JSON.stringify(generated.publicJwk));
    const add = await runCli(['member', 'add', 'acme', '--name', 'Acme Video', '--roles', 'submitter,matcher,sync', '--server', t.service.url, '--member', 'admin', '--key', adminEnv.SIGNALBANK_KEY, '--json'], { cwd });
    expect(add.code).toBe(0);
    expect(jsonLines(add.stdout)[0]).toMatchObject({ id: 'acme', roles: ['submitter', 'matcher', 'sync'] });
    const key = await runCli(['key', 'add', 'acme', publicPath, '--json'], { cwd, env: adminEnv });
    expect(key.code).toBe(0);
    expect(jsonLines(key.stdout)[0]).toMatchObject({ kid: generated.kid, status: 'active' });

    // 2. hash a folder: one NDJSON line per file in order; the non-image fails alone, exit 1;
    // the progress bar goes to stderr (forced: stderr is no terminal here), never stdout.
    const source = folder('source', { 'a-orig.jpg': FIXTURE('bridge-mods/aaa-orig.jpg'), 'b-notes.jpg': NOT_AN_IMAGE });
    const hash = await runCli(['hash', 'source', '--json', '--progress'], { cwd });
    expect(hash.code).toBe(1);
    expect(hash.stderr).toMatch(/hashing \[=+\] 2\/2 files/);
    const hashed = jsonLines(hash.stdout);
    expect(hashed.map((line) => line['file'])).toEqual([join('source', 'a-orig.jpg'), join('source', 'b-notes.jpg')]);
    expect(hashed[0]).toMatchObject({ pdq: ORIG_PDQ, pdqQuality: 100, md5: expect.stringMatching(/^[0-9a-f]{32}$/) as unknown });
    expect((hashed[1]?.['error'] as { code: string }).code).toMatch(/^ERR_/);
    const hashesPath = join(t.dir, 'hashes.ndjson');
    writeFileSync(hashesPath, hash.stdout);

    // 3. submit that NDJSON with --labels (flags): four hash types of the image created; the
    // failed file's line is reported with its error, and makes the exit code 1.
    const submitted = await runCli(['submit', hashesPath, '--labels', 'suicide', ...acmeFlags, '--json'], { cwd });
    expect(submitted.code).toBe(1);
    const submitLines = jsonLines(submitted.stdout);
    expect(submitLines.filter((r) => r['status'] === 'created').map((r) => r['type'])).toEqual(['pdq', 'blockhash', 'md5', 'sha256']);
    expect(submitLines.find((r) => r['status'] === 'unreadable')).toMatchObject({ line: 2, error: { code: (hashed[1]?.['error'] as { code: string }).code } });

    // … and a CSV type,hash,labels with labels per line (a pdq line also needs the quality
    // column, docs/decisions.md), with environment settings.
    const csvPath = join(t.dir, 'signals.csv');
    writeFileSync(csvPath, `type,hash,labels,quality\npdq,${WEE_PDQ},"suicide,graphic",100\nmd5,9e107d9d372bb6826bd81d3542a419d6,self_harm\n`);
    const csv = await runCli(['submit', csvPath, '--labels', 'ignored_default', '--json'], { cwd, env: acmeEnv });
    expect(csv.stderr + csv.stdout).not.toContain('ERR_');
    expect(csv.code).toBe(0);
    expect(jsonLines(csv.stdout)).toMatchObject([
      { line: 2, type: 'pdq', status: 'created' },
      { line: 3, type: 'md5', status: 'created' },
    ]);

    // 4. match image files: hashed here, so the server receives one small match request only;
    // the non-image among them is reported on its own line and makes the exit code 1.
    const image = join(source, 'a-orig.jpg');
    const notes = join(source, 'b-notes.jpg');
    requests.length = 0;
    const matchFiles = await runCli(['match', image, notes, '--json'], { cwd, env: acmeEnv });
    expect(matchFiles.code).toBe(1);
    const [fileAnswer, notesAnswer] = jsonLines(matchFiles.stdout) as [{ query: { type: string; hash: string; file: string }; matches: Match[] }, { file: string; error: { code: string } }];
    expect(fileAnswer.query).toEqual({ type: 'pdq', hash: ORIG_PDQ, file: image });
    expect(fileAnswer.matches).toEqual([expect.objectContaining({ hash: ORIG_PDQ, distance: 0, labels: ['suicide'] })]);
    expect(notesAnswer).toEqual({ file: notes, error: { code: (hashed[1]?.['error'] as { code: string }).code, message: expect.any(String) as unknown } });
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /v1/match']);
    expect(requests[0]!.bytes).toBeGreaterThan(0);
    expect(requests[0]!.bytes).toBeLessThan(1024);
    expect(statSync(image).size).toBeGreaterThan(100 * 1024);

    // match a hash with --type (flags): the CSV line's own labels.
    const matchHash = await runCli(['match', WEE_PDQ, '--type', 'pdq', '--max-distance', '0', ...acmeFlags, '--json'], { cwd });
    expect(matchHash.code).toBe(0);
    const [hashAnswer] = jsonLines(matchHash.stdout) as [{ matches: Match[] }];
    expect(hashAnswer.matches).toEqual([expect.objectContaining({ hash: WEE_PDQ, distance: 0, labels: ['graphic', 'suicide'] })]);

    // 5. job over a folder: hashed locally, one result line per image in file order; the
    // non-image is skipped with its error on stderr, and the exit code is 1.
    folder('photos', {
      '1-orig.jpg': FIXTURE('bridge-mods/aaa-orig.jpg'),
      '2-blur.jpg': FIXTURE('bridge-mods/blur-a-lot.jpg'),
      '3-notes.jpg': NOT_AN_IMAGE,
      '4-wee.jpg': FIXTURE('misc-images/wee.jpg'),
    });
    const resultsPath = join(t.dir, 'results.ndjson');
    const job = await runCli(['job', 'photos', '--out', resultsPath, '--json', '--progress'], { cwd, env: acmeEnv });
    expect(job.code).toBe(1);
    expect(job.stderr).toMatch(/hashing \[=+\] 4\/4 files/);
    expect(job.stderr).toMatch(/matching \[[-=]+\] \d\/3 lines/);
    expect(job.stderr).toMatch(/3-notes\.jpg: not hashed: ERR_[A-Z_]+/);
    expect(jsonLines(job.stdout)[0]).toMatchObject({ status: 'done', total: 3, done: 3, errorLines: 0, skipped: 1, results: { lines: 3, withMatches: 3, errors: 0 } });
    const results = jsonLines(readFileSync(resultsPath, 'utf8')) as { line: number; ref: string; matches: Match[] }[];
    expect(results.map((r) => [r.line, r.ref])).toEqual([
      [1, join('photos', '1-orig.jpg')],
      [2, join('photos', '2-blur.jpg')],
      [3, join('photos', '4-wee.jpg')],
    ]);
    expect(results[0]!.matches).toEqual([expect.objectContaining({ hash: ORIG_PDQ, distance: 0 })]);
    expect(results[1]!.matches[0]).toMatchObject({ hash: ORIG_PDQ });
    expect(results[1]!.matches[0]!.distance).toBeGreaterThan(0);
    expect(results[2]!.matches).toEqual([expect.objectContaining({ hash: WEE_PDQ, distance: 0, labels: ['graphic', 'suicide'] })]);

    // 6. sync a mirror (flags), then match offline: the same answer as online.
    const mirror = join(t.dir, 'mirror.db');
    const sync = await runCli(['sync', '--mirror', mirror, ...acmeFlags, '--json'], { cwd });
    expect(sync.code).toBe(0);
    expect(jsonLines(sync.stdout)[0]).toMatchObject({ mirror, signals: 6 });
    requests.length = 0;
    const offline = await runCli(['match', '--mirror', mirror, image, notes, '--json'], { cwd });
    expect(offline.code).toBe(1);
    expect(requests).toEqual([]);
    expect(jsonLines(offline.stdout)).toEqual(jsonLines(matchFiles.stdout));
  });
});
