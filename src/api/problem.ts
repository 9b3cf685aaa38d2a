/**
 * The one place errors become HTTP answers: any `SignalbankError` maps to RFC 9457 problem JSON
 * with its stable code and the catalogue's status; anything else is answered as a bare 500
 * `ERR_INTERNAL`. Server failures (5xx, coded or not) are logged and answered with their code's
 * fixed text, never with a stack trace or an internal message. Also turns zod
 * validation issues into `errors[]` with JSON Pointers (RFC 6901).
 */
import type { z } from 'zod';
import { asCodedError, InputError, LimitError, type FieldError } from '../errors.js';

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
  /** True for a server failure (5xx, coded or not): the caller must log it, as its text is not sent. */
  readonly unexpected: boolean;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** The problem type URI of a code: its entry on the offline docs page. */
export const problemType = (code: string): string => `/docs#${code}`;

export function toProblem(error: unknown, requestId?: string): ProblemAnswer {
  const coded = asCodedError(error);
  const headers: Record<string, string> = {};
  if (coded instanceof LimitError && coded.retryAfterSeconds !== undefined) headers['Retry-After'] = String(coded.retryAfterSeconds);
  return {
    status: coded.status,
    headers,
    unexpected: coded.status >= 500,
    body: {
      type: problemType(coded.code),
      title: coded.title,
      status: coded.status,
      code: coded.code,
      detail: coded.clientMessage,
      ...(requestId !== undefined && { requestId }),
      ...(coded.errors && { errors: coded.errors }),
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
