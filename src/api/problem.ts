/**
 * The one place errors become HTTP answers: any `SignalbankError` maps to RFC 9457 problem JSON
 * with its stable code and the catalogue's status; anything else is logged and answered as a
 * bare 500 `ERR_INTERNAL`, never with a stack trace or an internal message. Also turns zod
 * validation issues into `errors[]` with JSON Pointers (RFC 6901).
 */
import type { z } from 'zod';
import { ERROR_CATALOGUE, InputError, isSignalbankError, LimitError, type FieldError } from '../errors.js';

export interface ProblemBody {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly requestId?: string;
  readonly errors?: readonly FieldError[];
}

export interface ProblemAnswer {
  readonly status: number;
  readonly body: ProblemBody;
  readonly headers: Record<string, string>;
  /** True when the error was not a coded one: the caller must log it. */
  readonly unexpected: boolean;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** The problem type URI of a code: its entry on the offline docs page. */
export const problemType = (code: string): string => `/docs#${code}`;

export function toProblem(error: unknown, requestId?: string): ProblemAnswer {
  if (isSignalbankError(error)) {
    const headers: Record<string, string> = {};
    if (error instanceof LimitError && error.retryAfterSeconds !== undefined) headers['Retry-After'] = String(error.retryAfterSeconds);
    return {
      status: error.status,
      headers,
      unexpected: false,
      body: {
        type: problemType(error.code),
        title: error.title,
        status: error.status,
        code: error.code,
        detail: error.message,
        ...(requestId !== undefined && { requestId }),
        ...(error.errors && { errors: error.errors }),
      },
    };
  }
  const { status, title } = ERROR_CATALOGUE.ERR_INTERNAL;
  return {
    status,
    headers: {},
    unexpected: true,
    body: {
      type: problemType('ERR_INTERNAL'),
      title,
      status,
      code: 'ERR_INTERNAL',
      detail: 'The server could not complete this request; it has been logged',
      ...(requestId !== undefined && { requestId }),
    },
  };
}

/** RFC 6901 JSON Pointer of a path. */
export function jsonPointer(path: readonly PropertyKey[]): string {
  return path.map((part) => `/${String(part).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

/** An `ERR_VALIDATION` error listing every zod issue, its path under `base`. */
export function validationError(issues: readonly z.core.$ZodIssue[], base: readonly PropertyKey[] = [], what = 'The request'): InputError {
  const errors = issues.slice(0, 100).map((issue) => ({ path: jsonPointer([...base, ...issue.path]), message: issue.message }));
  const first = errors[0];
  const detail = first ? `${what} is invalid: ${first.path || '/'} ${first.message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}` : `${what} is invalid`;
  return new InputError('ERR_VALIDATION', detail, { errors });
}
