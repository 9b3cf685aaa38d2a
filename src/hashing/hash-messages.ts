/**
 * The messages between `HashPool` and its workers, and how a failure crosses the thread
 * boundary: as its `{code, message}` pair, rebuilt on the pool's side as the same coded error.
 */
import { type ErrorCode, ImageError, type ImageCode, isSignalbankError, OperationError, SignalbankError } from '../errors.js';
import type { ResolvedHashOptions } from './hash-options.js';
import type { ImageHashes } from './image-hasher.js';

export interface HashRequest {
  readonly id: number;
  readonly path: string;
  readonly options: ResolvedHashOptions;
}

export interface WireError {
  readonly code: ErrorCode;
  readonly message: string;
}

export type HashReply = { readonly id: number; readonly result: ImageHashes } | { readonly id: number; readonly error: WireError };

export function toWireError(error: unknown): WireError {
  if (isSignalbankError(error)) return { code: error.code, message: error.message };
  return { code: 'ERR_INTERNAL', message: error instanceof Error ? error.message : String(error) };
}

const IMAGE_CODES: ReadonlySet<ErrorCode> = new Set<ImageCode>(['ERR_UNSUPPORTED_IMAGE', 'ERR_IMAGE_TOO_LARGE', 'ERR_IMAGE_TOO_SMALL', 'ERR_FILE_UNREADABLE']);

export function fromWireError(error: WireError): SignalbankError {
  if (IMAGE_CODES.has(error.code)) return new ImageError(error.code as ImageCode, error.message);
  if (error.code === 'ERR_INTERNAL') return new OperationError('ERR_INTERNAL', error.message);
  return new SignalbankError(error.code, error.message);
}
