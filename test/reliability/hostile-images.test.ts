/**
 * Hostile inputs to `signalbank hash`, made in the test (sharp for the valid images, the bombs and
 * polyglots by hand): zero-byte, truncated and corrupt files, polyglots (PNG + ZIP, PNG + HTML,
 * JPEG + ZIP, a GIF/JS polyglot), decompression bombs (PNG, JPEG and GIF headers declaring
 * 50,000×50,000 and more), SVG billion laughs, non-images and non-files (a symlink loop, a FIFO,
 * /dev/zero). Each gets its own line with a stable code, the valid files around them are still
 * hashed (a polyglot whose image part is valid hashes as that image), and the CLI's peak memory,
 * sampled from /proc while it runs, stays under a bound.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashImage } from '../../src/library.js';
import { gifHeaderOnly, jpegWithDimensions, pngHeaderOnly, SOF_ONLY_JPEG } from '../support/crafted-images.js';
import { jsonLines, runCli } from '../support/run-cli.js';

const MEMORY_BOUND_BYTES = 400 * 1024 * 1024;
let dir: string;

const BILLION_LAUGHS = `<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lollollollollollollollollollol">
${Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`).join('\n')}
]>
<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000"><text>&lol9;</text></svg>`;

/** Expected outcome per file: 'hashed' or the error code. */
const expected: [file: string, outcome: string][] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sb-hostile-images-'));
  const noise = Buffer.alloc(96 * 80 * 3);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
  const raw = { raw: { width: 96, height: 80, channels: 3 as const } };
  const png = await sharp(noise, raw).png().toBuffer();
  const jpeg = await sharp(noise, raw).jpeg({ quality: 90 }).toBuffer();
  const webp = await sharp(noise, raw).webp().toBuffer();
  const zip = Buffer.concat([Buffer.from('PK\u0003\u0004\u0014\u0000\u0000\u0000\u0000\u0000', 'latin1'), Buffer.alloc(64, 0x41), Buffer.from('PK\u0005\u0006', 'latin1'), Buffer.alloc(18)]);
  const corruptPng = Buffer.from(png);
  for (let i = 60; i < corruptPng.length - 20; i += 7) corruptPng[i] = corruptPng[i]! ^ 0x5a;

  const files: [string, Buffer | string, string][] = [
    ['01-valid.png', png, 'hashed'],
    ['02-empty.jpg', Buffer.alloc(0), 'ERR_UNSUPPORTED_IMAGE'],
    ['03-truncated.png', png.subarray(0, png.length >> 1), 'ERR_UNSUPPORTED_IMAGE'],
    ['04-truncated.jpg', jpeg.subarray(0, 200), 'ERR_UNSUPPORTED_IMAGE'],
    ['05-header-only.png', png.subarray(0, 33), 'ERR_UNSUPPORTED_IMAGE'],
    ['06-corrupt.png', corruptPng, 'ERR_UNSUPPORTED_IMAGE'],
    ['07-valid.jpg', jpeg, 'hashed'],
    ['08-png-zip-polyglot.png', Buffer.concat([png, zip]), 'hashed'],
    ['09-png-html-polyglot.png', Buffer.concat([png, Buffer.from('<html><body><script>alert(document.cookie)</script></body></html>')]), 'hashed'],
    ['10-jpeg-zip-polyglot.jpg', Buffer.concat([jpeg, zip]), 'hashed'],
    ['11-gif-js-polyglot.gif', Buffer.from('GIF89a/*\u0000\u0000\u0000\u0000\u0000*/=1;alert(document.domain);//\u003b', 'latin1'), 'ERR_UNSUPPORTED_IMAGE'],
    ['12-bomb-50000x50000.png', pngHeaderOnly(50_000, 50_000), 'ERR_IMAGE_TOO_LARGE'],
    ['13-bomb-65000x65000.jpg', jpegWithDimensions(jpeg, 65_000, 65_000), 'ERR_IMAGE_TOO_LARGE'],
    ['13-sof-only.jpg', SOF_ONLY_JPEG, 'ERR_UNSUPPORTED_IMAGE'],
    ['14-bomb-65535x65535.gif', gifHeaderOnly(65_535, 65_535), 'ERR_IMAGE_TOO_LARGE'],
    ['15-bomb-20000x20000.png', pngHeaderOnly(20_000, 20_000), 'ERR_IMAGE_TOO_LARGE'],
    // libpng itself refuses a side over 1,000,000 before the pixel limit is reached.
    ['15-bomb-1x2147483647.png', pngHeaderOnly(1, 2 ** 31 - 1), 'ERR_UNSUPPORTED_IMAGE'],
    ['16-billion-laughs.png', BILLION_LAUGHS, 'ERR_UNSUPPORTED_IMAGE'],
    ['17-text.jpg', 'this is not an image\n', 'ERR_UNSUPPORTED_IMAGE'],
    ['18-pdf.png', '%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n', 'ERR_UNSUPPORTED_IMAGE'],
    ['19-random.webp', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) & 0xff)), 'ERR_UNSUPPORTED_IMAGE'],
    ['20-tiny.png', await sharp(noise.subarray(0, 8 * 8 * 3), { raw: { width: 8, height: 8, channels: 3 } }).png().toBuffer(), 'ERR_IMAGE_TOO_SMALL'],
    ['21-valid.webp', webp, 'hashed'],
  ];
  for (const [name, content, outcome] of files) {
    writeFileSync(join(dir, name), content);
    expected.push([name, outcome]);
  }
  symlinkSync('22-loop.jpg', join(dir, '22-loop.jpg'));
  expected.push(['22-loop.jpg', 'ERR_FILE_UNREADABLE']);
  execFileSync('mkfifo', [join(dir, '23-fifo.jpg')]);
  expected.push(['23-fifo.jpg', 'ERR_FILE_UNREADABLE']);
  expected.push(['/dev/zero', 'ERR_FILE_UNREADABLE']);
  expected.push(['24-missing.png', 'ERR_FILE_UNREADABLE']);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Peak resident memory of a process so far (Linux), 0 once it is gone. */
function peakRss(pid: number): number {
  try {
    return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

describe('hash with hostile images', () => {
  it('reports each bad file with a stable code, hashes the good ones, in bounded memory', { timeout: 60_000 }, async () => {
    let peak = 0;
    let sampler: NodeJS.Timeout | undefined;
    const result = await runCli(['hash', ...expected.map(([file]) => file), '--workers', '2'], {
      cwd: dir,
      onSpawn: (child) => {
        sampler = setInterval(() => (peak = Math.max(peak, peakRss(child.pid!))), 10);
      },
    });
    clearInterval(sampler);
    const lines = jsonLines(result.stdout);
    const outcomes = lines.map((line) => [line['file'], (line['error'] as { code?: string } | undefined)?.code ?? 'hashed']);
    expect(outcomes).toEqual(expected);
    expect(result.code).toBe(1);
    for (const line of lines) {
      const error = line['error'] as { message?: string } | undefined;
      // Clear: the message names the file it is about.
      if (error) expect(error.message).toContain(String(line['file']));
    }
    // A polyglot hashes as its image; its bytes (md5) are its own.
    const byFile = new Map(lines.map((line) => [line['file'], line]));
    expect(byFile.get('08-png-zip-polyglot.png')!['pdq']).toBe(byFile.get('01-valid.png')!['pdq']);
    expect(byFile.get('09-png-html-polyglot.png')!['blockhash']).toBe(byFile.get('01-valid.png')!['blockhash']);
    expect(byFile.get('08-png-zip-polyglot.png')!['md5']).not.toBe(byFile.get('01-valid.png')!['md5']);
    expect(byFile.get('10-jpeg-zip-polyglot.jpg')!['pdq']).toBe(byFile.get('07-valid.jpg')!['pdq']);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThan(MEMORY_BOUND_BYTES);
    console.info(`hostile images: ${expected.length} inputs, ${lines.filter((l) => !l['error']).length} hashed, peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB`);
  });

  it('gives the library caller the same codes for buffers', async () => {
    await expect(hashImage(pngHeaderOnly(50_000, 50_000))).rejects.toMatchObject({ code: 'ERR_IMAGE_TOO_LARGE' });
    await expect(hashImage(SOF_ONLY_JPEG)).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_IMAGE' });
    await expect(hashImage(Buffer.from(BILLION_LAUGHS))).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_IMAGE' });
    await expect(hashImage(Buffer.alloc(0))).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_IMAGE' });
  });
});
