/**
 * What every error answer of the service must be (SPEC §4): RFC 9457 problem JSON served as
 * `application/problem+json`, whose `status` is the HTTP status and whose `code` is a catalogued
 * `ERR_*`. `problemOf` checks an answer (a `fetch` response or the client's raw answer) and
 * answers its status and code; `codeOf` applies it to every error the client raises from an answer.
 */
import { expect } from 'vitest';
import { ProblemSchema } from '../../src/api/schemas.js';
import type { RawResponse } from '../../src/client/signalbank-client.js';

/** The media type SPEC §4 fixes for error bodies (written out, not imported, so a change there shows here). */
const PROBLEM_JSON = /^application\/problem\+json(;|$)/;

export interface ProblemSummary {
  readonly status: number;
  readonly code: string;
}

function checkedProblem(status: number, headers: Headers, body: unknown): ProblemSummary {
  expect(headers.get('content-type') ?? '(none)', `content type of a ${status} answer`).toMatch(PROBLEM_JSON);
  const problem = ProblemSchema.parse(body);
  expect(problem.status, 'the problem names the HTTP status').toBe(status);
  return { status, code: problem.code };
}

/** Checks an error answer: `fetch`'s response (its body is read here) or the client's raw answer. */
export async function problemOf(answer: Response | RawResponse): Promise<ProblemSummary> {
  if (answer instanceof Response) return checkedProblem(answer.status, answer.headers, JSON.parse(await answer.text()) as unknown);
  return checkedProblem(answer.status, answer.headers, answer.body);
}

/** True for the client's raw answer, which the client keeps as the `cause` of an error it raises from one. */
export function isRawResponse(value: unknown): value is RawResponse {
  return typeof value === 'object' && value !== null && typeof (value as RawResponse).status === 'number' && (value as RawResponse).headers instanceof Headers;
}
