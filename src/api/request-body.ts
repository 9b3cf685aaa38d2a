/**
 * Reads a request body as exact bytes under a size limit, hashing it on the way (the signed
 * `bd` digest covers the exact bytes), and parses JSON bodies. A body over the limit is refused
 * with 413 `ERR_TOO_LARGE` as soon as the limit is passed — from `Content-Length` when it is
 * declared — without buffering the rest. Streamed bodies (job NDJSON) are handed to the route
 * chunk by chunk under their own limit, hashed on the way, never held whole.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { InputError, LimitError } from '../errors.js';

export interface RawBody {
  readonly bytes: Buffer;
  /** base64url SHA-256 of `bytes`. */
  readonly digest: string;
}

const NO_BYTES = Buffer.alloc(0);
const EMPTY_BODY: RawBody = { bytes: NO_BYTES, digest: createHash('sha256').update(NO_BYTES).digest('base64url') };

export async function readRawBody(req: IncomingMessage, limitBytes: number): Promise<RawBody> {
  const declared = req.headers['content-length'];
  // Without Content-Length or Transfer-Encoding, HTTP/1.1 framing says there is no body (RFC 9112 §6.3):
  // answer the empty body without setting up a stream read (most GETs).
  if ((declared === undefined || declared === '0') && req.headers['transfer-encoding'] === undefined) return EMPTY_BODY;
  if (declared !== undefined && Number(declared) > limitBytes) throw tooLarge(limitBytes);
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) throw tooLarge(limitBytes);
    hash.update(chunk);
    chunks.push(chunk);
  }
  return { bytes: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size), digest: hash.digest('base64url') };
}

/** A body the route reads as it arrives; `digest()` is known once `chunks` is exhausted. */
export interface StreamedRawBody {
  readonly chunks: AsyncIterable<Buffer>;
  /** base64url SHA-256 of every byte read; throws if the body was not read to its end. */
  digest(): string;
}

export function streamRawBody(req: IncomingMessage, limitBytes: number): StreamedRawBody {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limitBytes) throw tooLarge(limitBytes);
  const hash = createHash('sha256');
  let finished = false;
  async function* chunks(): AsyncGenerator<Buffer> {
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limitBytes) throw tooLarge(limitBytes);
      hash.update(chunk);
      yield chunk;
    }
    finished = true;
  }
  return {
    chunks: chunks(),
    digest() {
      if (!finished) throw new InputError('ERR_VALIDATION', 'The body was not read to its end');
      return hash.digest('base64url');
    },
  };
}

function tooLarge(limitBytes: number): LimitError {
  return new LimitError('ERR_TOO_LARGE', `The body is larger than the limit of ${limitBytes} bytes`);
}

/** Whether the request announces a body: a Content-Length above zero, or a Transfer-Encoding (chunked). */
export function announcesBody(req: IncomingMessage): boolean {
  return Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
}

/** Checks the media type of a body that is present against those the route takes. */
export function assertContentType(req: IncomingMessage, accepted: readonly string[]): void {
  const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (type === undefined || !accepted.includes(type)) {
    throw new LimitError('ERR_UNSUPPORTED_MEDIA_TYPE', `Send the body as ${accepted.join(' or ')}`);
  }
}

export function assertJsonContentType(req: IncomingMessage): void {
  assertContentType(req, ['application/json']);
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Parses a JSON body strictly (valid UTF-8, valid JSON); empty bodies are `undefined`. */
export function parseJsonBody(bytes: Buffer): unknown {
  if (bytes.length === 0) return undefined;
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw new InputError('ERR_BAD_JSON', 'The body is not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InputError('ERR_BAD_JSON', `The body is not valid JSON: ${error instanceof Error ? error.message.slice(0, 200) : 'parse error'}`);
  }
}
