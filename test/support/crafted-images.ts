/**
 * Hand-made image files for tests of hostile input: headers that declare huge dimensions over a
 * token amount of data (decompression bombs) and a JPEG that is only a frame header. Built in
 * code, so no binary fixture is needed.
 */
import { crc32, deflateSync } from 'node:zlib';

/** One PNG chunk: length, type, data, CRC over type and data. */
function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A PNG whose header claims `width`×`height` 8-bit RGB but whose pixel data is a token few bytes. */
export function pngHeaderOnly(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', header), pngChunk('IDAT', deflateSync(Buffer.alloc(64))), pngChunk('IEND', Buffer.alloc(0))]);
}

/** A real baseline JPEG whose start-of-frame header is patched to declare `width`×`height`. */
export function jpegWithDimensions(jpeg: Buffer, width: number, height: number): Buffer {
  const patched = Buffer.from(jpeg);
  const sof = patched.indexOf(Buffer.from([0xff, 0xc0]));
  if (sof < 0) throw new Error('not a baseline JPEG');
  patched.writeUInt16BE(height, sof + 5);
  patched.writeUInt16BE(width, sof + 7);
  return patched;
}

/** A GIF whose logical screen and only frame are `width`×`height`, with one tiny LZW block. */
export function gifHeaderOnly(width: number, height: number): Buffer {
  const le = (n: number) => [n & 0xff, n >> 8];
  return Buffer.from([
    ...Buffer.from('GIF89a'), ...le(width), ...le(height), 0x80, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff,
    0x2c, 0, 0, 0, 0, ...le(width), ...le(height), 0, 0x02, 0x02, 0x4c, 0x01, 0, 0x3b,
  ]);
}

/** Only a JPEG start of frame (64×64): no tables and no scan, so no decoder can read it. */
export const SOF_ONLY_JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0x40, 0x00, 0x40, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01, 0xff, 0xd9]);
