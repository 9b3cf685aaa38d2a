/**
 * Splits a byte stream into NDJSON lines with bounded memory: lines end at `\n` (a `\r` before
 * it is dropped), a last line without `\n` still counts, and a trailing `\n` adds no empty line.
 * A line longer than `maxLineBytes` is not kept — it is reported as `too-long` and skipped up
 * to its end; a line that is not valid UTF-8 is reported as `not-utf8`. Lines are numbered from
 * 1 and yielded in batches (one per input chunk) to keep the per-line overhead small.
 */

export type NdjsonLine =
  | { readonly number: number; readonly text: string }
  | { readonly number: number; readonly problem: 'too-long' | 'not-utf8' };

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

const decoder = new TextDecoder('utf-8', { fatal: true });

export async function* ndjsonLines(chunks: AsyncIterable<Uint8Array>, maxLineBytes: number): AsyncGenerator<NdjsonLine[]> {
  let number = 0;
  /** Bytes of the current line seen in earlier chunks (only while it is within the limit). */
  let carried: Buffer[] = [];
  let carriedBytes = 0;
  /** The current line passed the limit: drop bytes up to its end. */
  let skipping = false;
  let sawBytes = false;

  const finishLine = (batch: NdjsonLine[], tail: Buffer): void => {
    number++;
    if (skipping || carriedBytes + tail.length > maxLineBytes) {
      batch.push({ number, problem: 'too-long' });
    } else {
      let bytes = carriedBytes === 0 ? tail : Buffer.concat([...carried, tail], carriedBytes + tail.length);
      if (bytes.length > 0 && bytes[bytes.length - 1] === CARRIAGE_RETURN) bytes = bytes.subarray(0, bytes.length - 1);
      try {
        batch.push({ number, text: decoder.decode(bytes) });
      } catch {
        batch.push({ number, problem: 'not-utf8' });
      }
    }
    carried = [];
    carriedBytes = 0;
    skipping = false;
  };

  for await (const chunk of chunks) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (buffer.length === 0) continue;
    sawBytes = true;
    const batch: NdjsonLine[] = [];
    let start = 0;
    for (let end = buffer.indexOf(NEWLINE, start); end !== -1; end = buffer.indexOf(NEWLINE, start)) {
      finishLine(batch, buffer.subarray(start, end));
      start = end + 1;
    }
    if (start < buffer.length && !skipping) {
      const rest = buffer.subarray(start);
      if (carriedBytes + rest.length > maxLineBytes) {
        skipping = true;
        carried = [];
        carriedBytes = 0;
      } else {
        // Copied: the caller's chunk may be reused once we yield.
        carried.push(Buffer.from(rest));
        carriedBytes += rest.length;
      }
    }
    if (batch.length > 0) yield batch;
  }
  if (sawBytes && (skipping || carriedBytes > 0)) {
    const batch: NdjsonLine[] = [];
    finishLine(batch, Buffer.alloc(0));
    yield batch;
  }
}
