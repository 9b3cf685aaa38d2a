/**
 * A request body too large to hold in memory, spooled to a temporary file while its SHA-256 is
 * computed — the signed `bd` claim must cover the exact bytes before the first byte is sent —
 * and then streamed from the file. Used for job uploads of up to millions of NDJSON lines.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';

/** One job query. */
export interface JobQueryInput {
  readonly type: string;
  readonly hash: string;
  readonly maxDistance?: number;
  readonly ref?: string;
}

/** Queries, NDJSON lines (strings, without newline) or raw NDJSON bytes, in order. */
export type JobInput = Iterable<JobQueryInput | string | Uint8Array> | AsyncIterable<JobQueryInput | string | Uint8Array>;

export interface SpooledBody {
  readonly digest: string;
  readonly size: number;
  /** The file's bytes as a web stream, for fetch. */
  stream(): ReadableStream<Uint8Array>;
  remove(): Promise<void>;
}

export async function spoolNdjson(input: JobInput): Promise<SpooledBody> {
  const dir = await mkdtemp(join(tmpdir(), 'signalbank-job-'));
  const path = join(dir, 'body.ndjson');
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    const file = createWriteStream(path);
    const hash = createHash('sha256');
    let size = 0;
    const write = async (bytes: Uint8Array): Promise<void> => {
      hash.update(bytes);
      size += bytes.length;
      if (!file.write(bytes)) await once(file, 'drain');
    };
    let pending = '';
    for await (const item of input) {
      if (item instanceof Uint8Array) {
        if (pending !== '') {
          await write(Buffer.from(pending));
          pending = '';
        }
        await write(item);
        continue;
      }
      pending += typeof item === 'string' ? `${item}\n` : `${JSON.stringify(item)}\n`;
      if (pending.length >= 65_536) {
        await write(Buffer.from(pending));
        pending = '';
      }
    }
    if (pending !== '') await write(Buffer.from(pending));
    file.end();
    await once(file, 'finish');
    const digest = hash.digest('base64url');
    return { digest, size, stream: () => Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}
