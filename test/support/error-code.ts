/**
 * The `ERR_*` code a promise rejects with (undefined when it resolves); anything that is not a
 * coded error is re-thrown, so a test never mistakes a crash for a refusal.
 */
import { isSignalbankError } from '../../src/errors.js';

export async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    if (isSignalbankError(error)) return error.code;
    throw error;
  }
}
