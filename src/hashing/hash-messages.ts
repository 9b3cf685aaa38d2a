/**
 * The messages between `HashPool` and its workers, and how a failure crosses the thread
 * boundary: as its `{code, message}` pair, rebuilt on the pool's side as the same coded error.
 */
import { fromWireError as reviveWireError, isSignalbankError, OperationError, type SignalbankError, toWireError, type WireError } from '../errors.js';
import type { ResolvedHashOptions } from './hash-options.js';
import type { ImageHashes } from './image-hasher.js';

export interface HashRequest {
  readonly id: number;
  readonly path: string;
  readonly options: ResolvedHashOptions;
}

export type HashReply = { readonly id: number; readonly result: ImageHashes } | { readonly id: number; readonly error: WireError };

export { toWireError, type WireError };

/** The worker's failure as the same coded error; an uncoded one (a bug) becomes `ERR_INTERNAL` with its message. */
export function fromWireError(error: WireError): SignalbankError {
  const revived = reviveWireError(error);
  return isSignalbankError(revived) ? revived : new OperationError('ERR_INTERNAL', error.message);
}
