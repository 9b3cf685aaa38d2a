/**
 * Decoding policy for local hashing: one place turns a file or buffer into the 8-bit RGBA
 * pixels every perceptual hash reads, and turns every way that can fail into an `ImageError`.
 *
 * - sharp/libvips decodes; embedded ICC profiles are ignored (the reference tools hash stored
 *   samples), EXIF orientation is not applied (neither reference does; PDQ's dihedral hashes
 *   cover rotations), multi-page and animated images give their first frame.
 * - CMYK, greyscale, palette and 16-bit images are converted to 8-bit sRGB. An image with an
 *   alpha channel decodes to RGBA (PDQ ignores alpha like its reference, blockhash reads fully
 *   transparent pixels as white like its reference); an opaque one to RGB, which saves the
 *   decoder a channel.
 * - Only raster formats are accepted (JPEG, PNG, WebP, GIF, TIFF, AVIF/HEIF); SVG, PDF and
 *   anything else is `ERR_UNSUPPORTED_IMAGE`, as are empty, truncated or corrupt files
 *   (`failOn: 'error'`: a decoder error aborts, a mere warning does not).
 * - Memory stays bounded: the header's dimensions are checked against the pixel limit before
 *   any pixel is decoded (`ERR_IMAGE_TOO_LARGE`), sharp's own `limitInputPixels` guards the
 *   decode as well, and images under 16×16 are `ERR_IMAGE_TOO_SMALL`.
 */
import sharp, { type Metadata, type SharpOptions } from 'sharp';
import { ImageError, isSignalbankError } from '../errors.js';
import type { RawImage } from './raw-image.js';

export const DEFAULT_MAX_PIXELS = 100_000_000;
export const MIN_IMAGE_SIDE = 16;

const RASTER_FORMATS: ReadonlySet<string> = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif', 'avif']);

export interface DecodeOptions {
  /** Largest width × height decoded; larger images are `ERR_IMAGE_TOO_LARGE`. */
  readonly maxPixels: number;
}

/** What the input is called in error messages. */
function describeInput(input: string | Buffer): string {
  return typeof input === 'string' ? input : `buffer of ${input.length} bytes`;
}

export async function decodeImage(input: string | Buffer, options: DecodeOptions): Promise<RawImage> {
  const name = describeInput(input);
  if (typeof input !== 'string' && input.length === 0) {
    throw new ImageError('ERR_UNSUPPORTED_IMAGE', `Expected an image for ${name} but it is empty`);
  }
  const sharpOptions: SharpOptions = {
    ignoreIcc: true,
    autoOrient: false,
    pages: 1,
    page: 0,
    failOn: 'error',
    limitInputPixels: options.maxPixels,
    sequentialRead: true,
  };
  try {
    const metadata = await sharp(input, sharpOptions).metadata();
    checkHeader(metadata, name, options.maxPixels);
    const pipeline = sharp(input, sharpOptions).toColourspace('srgb');
    const { data, info } = await (metadata.hasAlpha ? pipeline.ensureAlpha() : pipeline.removeAlpha())
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    const channels = info.channels;
    if (channels !== 3 && channels !== 4) throw new ImageError('ERR_UNSUPPORTED_IMAGE', `Expected 3 or 4 channels after decoding ${name} but received ${channels}`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels };
  } catch (error) {
    throw asImageError(error, input, name, options.maxPixels);
  }
}

function checkHeader(metadata: Metadata, name: string, maxPixels: number): void {
  const { format, width, height } = metadata;
  if (!RASTER_FORMATS.has(format)) {
    throw new ImageError('ERR_UNSUPPORTED_IMAGE', `Expected a raster image (${[...RASTER_FORMATS].join(', ')}) for ${name} but received ${format}`);
  }
  if (width * height > maxPixels) {
    throw new ImageError('ERR_IMAGE_TOO_LARGE', `Expected at most ${maxPixels} pixels for ${name} but received ${width}×${height}`);
  }
  if (width < MIN_IMAGE_SIDE || height < MIN_IMAGE_SIDE) {
    throw new ImageError('ERR_IMAGE_TOO_SMALL', `Expected at least ${MIN_IMAGE_SIDE}×${MIN_IMAGE_SIDE} pixels for ${name} but received ${width}×${height}`);
  }
}

/** How sharp and the file system say a file cannot be read (as opposed to decoded). */
const UNREADABLE_FILE = /^Input file is missing|no such file|\b(ENOENT|EACCES|EISDIR|ELOOP|EPERM)\b|permission denied/i;

function asImageError(error: unknown, input: string | Buffer, name: string, maxPixels: number): ImageError {
  if (isSignalbankError(error) && error instanceof ImageError) return error;
  const message = error instanceof Error ? error.message : String(error);
  // Only a path can be unreadable; decoder messages ("missing SOS marker") say nothing about the file.
  if (typeof input === 'string' && UNREADABLE_FILE.test(message)) {
    return new ImageError('ERR_FILE_UNREADABLE', `Cannot read ${name}: ${message}`, { cause: error });
  }
  if (/pixel limit/i.test(message)) {
    return new ImageError('ERR_IMAGE_TOO_LARGE', `Expected at most ${maxPixels} pixels for ${name}: ${message}`, { cause: error });
  }
  return new ImageError('ERR_UNSUPPORTED_IMAGE', `Cannot decode ${name} as an image: ${message}`, { cause: error });
}
