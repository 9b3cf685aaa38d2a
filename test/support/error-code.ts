/**
 * The `ERR_*` code a promise rejects with (undefined when it resolves); anything that is not a
 * coded error is re-thrown, so a test never mistakes a crash for a refusal. When the error comes
 * from a server answer, that answer is checked to be problem JSON with the same code.
 */
import { expect } from 'vitest';
import { isSignalbankError } from '../../src/errors.js';
import { isRawResponse, problemOf } from './problem-answer.js';

export async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    if (!isSignalbankError(error)) throw error;
    if (isRawResponse(error.cause)) expect((await problemOf(error.cause)).code).toBe(error.code);
    return error.code;
  }
}
