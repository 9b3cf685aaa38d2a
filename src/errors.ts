/**
 * The project's one error hierarchy. Every failure a caller can act on is a `SignalbankError`
 * carrying a stable `ERR_*` code; callers switch on `code`, never on messages. The catalogue
 * below fixes each code's HTTP status and problem title, so the API maps any error to RFC 9457
 * problem JSON in one place (`src/api/problem.ts`) and the CLI prints the same codes.
 * Subclasses group codes by family so that `instanceof AuthError` reads naturally, and each
 * family's constructor only accepts its own codes.
 */

export interface ErrorSpec {
  readonly status: number;
  readonly title: string;
}

export const ERROR_CATALOGUE = {
  // Input: hashes, signal types, values and request bodies.
  ERR_VALIDATION: { status: 400, title: 'Request does not match the schema' },
  ERR_BAD_JSON: { status: 400, title: 'Malformed JSON' },
  ERR_UNKNOWN_TYPE: { status: 400, title: 'Unknown signal type' },
  ERR_INVALID_HASH: { status: 400, title: 'Invalid hash' },
  ERR_DEGENERATE_HASH: { status: 400, title: 'Degenerate hash' },
  ERR_LOW_QUALITY: { status: 400, title: 'Hash quality too low' },
  ERR_INVALID_DISTANCE: { status: 400, title: 'Invalid match distance' },
  ERR_INVALID_LABEL: { status: 400, title: 'Invalid label' },
  // Images hashed locally.
  ERR_UNSUPPORTED_IMAGE: { status: 400, title: 'Not a supported image' },
  ERR_IMAGE_TOO_LARGE: { status: 400, title: 'Image exceeds the pixel limit' },
  ERR_IMAGE_TOO_SMALL: { status: 400, title: 'Image too small to hash' },
  ERR_FILE_UNREADABLE: { status: 400, title: 'File cannot be read' },
  // Signed requests (SPEC §3).
  ERR_AUTH_MISSING: { status: 401, title: 'Authorization missing' },
  ERR_AUTH_MALFORMED: { status: 401, title: 'Authorization malformed' },
  ERR_ALG_NOT_ALLOWED: { status: 401, title: 'Signature algorithm not allowed' },
  ERR_KEY_UNKNOWN: { status: 401, title: 'Unknown key' },
  ERR_KEY_REVOKED: { status: 401, title: 'Key revoked' },
  ERR_SIGNATURE_INVALID: { status: 401, title: 'Signature invalid' },
  ERR_AUDIENCE: { status: 401, title: 'Wrong audience' },
  ERR_EXPIRED: { status: 401, title: 'Request expired' },
  ERR_NOT_YET_VALID: { status: 401, title: 'Request not yet valid' },
  ERR_LIFETIME_TOO_LONG: { status: 401, title: 'Request lifetime too long' },
  ERR_REPLAY: { status: 401, title: 'Request replayed' },
  ERR_METHOD_MISMATCH: { status: 401, title: 'Signed method does not match' },
  ERR_URL_MISMATCH: { status: 401, title: 'Signed URL does not match' },
  ERR_BODY_DIGEST: { status: 401, title: 'Body digest does not match' },
  // Permission.
  ERR_FORBIDDEN: { status: 403, title: 'Forbidden' },
  ERR_MEMBER_SUSPENDED: { status: 403, title: 'Member suspended' },
  // Resources and state.
  ERR_NOT_FOUND: { status: 404, title: 'Not found' },
  ERR_METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  ERR_CONFLICT: { status: 409, title: 'Conflict' },
  ERR_TOO_LARGE: { status: 413, title: 'Payload too large' },
  ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  ERR_RATE_LIMITED: { status: 429, title: 'Rate limited' },
  ERR_TIMEOUT: { status: 408, title: 'Request timeout' },
  // The signal log, as an auditor verifies it.
  ERR_CHECKPOINT_INVALID: { status: 502, title: 'Checkpoint signature or shape invalid' },
  ERR_LOG_INCONSISTENT: { status: 502, title: 'The signal log does not verify' },
  // Operation of the service and its tools.
  ERR_CONFIG: { status: 500, title: 'Invalid configuration' },
  ERR_SCHEMA_TOO_NEW: { status: 500, title: 'Database schema newer than this code' },
  ERR_SCHEMA_MISMATCH: { status: 500, title: 'Applied migration differs from this code' },
  ERR_UNAVAILABLE: { status: 503, title: 'Service unavailable' },
  ERR_UPSTREAM: { status: 502, title: 'Server answered with an error' },
  ERR_INTERNAL: { status: 500, title: 'Internal error' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** One field-level problem; `path` is a JSON Pointer (RFC 6901) into the request body. */
export interface FieldError {
  readonly path: string;
  readonly message: string;
}

export interface ErrorOptions {
  readonly cause?: unknown;
  readonly errors?: readonly FieldError[];
}

export class SignalbankError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;
  readonly errors: readonly FieldError[] | undefined;

  constructor(code: C, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.errors = options.errors;
  }

  get status(): number {
    return ERROR_CATALOGUE[this.code].status;
  }

  get title(): string {
    return ERROR_CATALOGUE[this.code].title;
  }

  /** The `{code, message}` pair used for per-item errors in batch answers and NDJSON output. */
  toItemError(): { code: C; message: string } {
    return { code: this.code, message: this.message };
  }

  /**
   * The message a client of the service may read. A server failure (status 5xx) can carry
   * internals — a worker's stack, a path, SQLite's words — so it is replaced by its code's fixed
   * text; the service logs the error itself.
   */
  get clientMessage(): string {
    if (this.status < 500) return this.message;
    return this.code === 'ERR_UNAVAILABLE' ? 'The service cannot answer this now; try again later' : 'The server could not complete this request; it has been logged';
  }

  /** `toItemError` as a client of the service may read it (see `clientMessage`). */
  toClientItemError(): { code: C; message: string } {
    return { code: this.code, message: this.clientMessage };
  }
}

export type InputCode =
  | 'ERR_VALIDATION'
  | 'ERR_BAD_JSON'
  | 'ERR_UNKNOWN_TYPE'
  | 'ERR_INVALID_HASH'
  | 'ERR_DEGENERATE_HASH'
  | 'ERR_LOW_QUALITY'
  | 'ERR_INVALID_DISTANCE'
  | 'ERR_INVALID_LABEL';
/** The caller's input is wrong: a hash, a type, a value or a body. */
export class InputError extends SignalbankError<InputCode> {}

export type ImageCode = 'ERR_UNSUPPORTED_IMAGE' | 'ERR_IMAGE_TOO_LARGE' | 'ERR_IMAGE_TOO_SMALL' | 'ERR_FILE_UNREADABLE';
/** A file given to the local hasher cannot be hashed. */
export class ImageError extends SignalbankError<ImageCode> {}

export type AuthCode =
  | 'ERR_AUTH_MISSING'
  | 'ERR_AUTH_MALFORMED'
  | 'ERR_ALG_NOT_ALLOWED'
  | 'ERR_KEY_UNKNOWN'
  | 'ERR_KEY_REVOKED'
  | 'ERR_SIGNATURE_INVALID'
  | 'ERR_AUDIENCE'
  | 'ERR_EXPIRED'
  | 'ERR_NOT_YET_VALID'
  | 'ERR_LIFETIME_TOO_LONG'
  | 'ERR_REPLAY'
  | 'ERR_METHOD_MISMATCH'
  | 'ERR_URL_MISMATCH'
  | 'ERR_BODY_DIGEST';
/** A signed request failed verification (401). */
export class AuthError extends SignalbankError<AuthCode> {}

export type ForbiddenCode = 'ERR_FORBIDDEN' | 'ERR_MEMBER_SUSPENDED';
/** The caller is known but may not do this (403). */
export class ForbiddenError extends SignalbankError<ForbiddenCode> {}

/** The named resource does not exist, or is not visible to the caller (404). */
export class NotFoundError extends SignalbankError<'ERR_NOT_FOUND'> {
  constructor(message: string, options: ErrorOptions = {}) {
    super('ERR_NOT_FOUND', message, options);
  }
}

/** The request clashes with the current state, e.g. an id already taken (409). */
export class ConflictError extends SignalbankError<'ERR_CONFLICT'> {
  constructor(message: string, options: ErrorOptions = {}) {
    super('ERR_CONFLICT', message, options);
  }
}

export type LimitCode = 'ERR_TOO_LARGE' | 'ERR_RATE_LIMITED' | 'ERR_TIMEOUT' | 'ERR_UNSUPPORTED_MEDIA_TYPE' | 'ERR_METHOD_NOT_ALLOWED';
/** A protocol-level limit was hit; `retryAfterSeconds` is set for rate limits. */
export class LimitError extends SignalbankError<LimitCode> {
  readonly retryAfterSeconds: number | undefined;

  constructor(code: LimitCode, message: string, options: ErrorOptions & { retryAfterSeconds?: number } = {}) {
    super(code, message, options);
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export type AuditCode = 'ERR_CHECKPOINT_INVALID' | 'ERR_LOG_INCONSISTENT';
/** The signal log failed an auditor's verification: a bad checkpoint, or entries that do not add up. */
export class AuditError extends SignalbankError<AuditCode> {}

export type OperationCode = 'ERR_CONFIG' | 'ERR_SCHEMA_TOO_NEW' | 'ERR_SCHEMA_MISMATCH' | 'ERR_UNAVAILABLE' | 'ERR_UPSTREAM' | 'ERR_INTERNAL';
/** The service or a tool cannot operate: bad configuration, a database from newer code, a server error. */
export class OperationError extends SignalbankError<OperationCode> {}

export function isSignalbankError(value: unknown): value is SignalbankError {
  return value instanceof SignalbankError;
}

/**
 * A coded error as it is; anything else — a bug — as `ERR_INTERNAL`, the original kept as its
 * cause for the log. A client reads only its code's fixed text (`clientMessage`).
 */
export function asCodedError(error: unknown): SignalbankError {
  return isSignalbankError(error) ? error : new OperationError('ERR_INTERNAL', 'uncoded error', { cause: error });
}

/**
 * An error as it crosses a thread boundary (a structured clone keeps neither the class nor the
 * code): the family's name, the code and the message of a coded error; the message and stack of
 * any other, which stays uncoded on the far side (so the API still answers it as a bare 500).
 */
export interface WireError {
  readonly name: string;
  readonly code?: ErrorCode;
  readonly message: string;
  readonly stack?: string;
}

export function toWireError(error: unknown): WireError {
  if (isSignalbankError(error)) return { name: error.name, code: error.code, message: error.message };
  if (error instanceof Error) return { name: error.name, message: error.message, ...(error.stack !== undefined && { stack: error.stack }) };
  return { name: 'Error', message: String(error) };
}

type FamilyConstructor = new (code: never, message: string) => SignalbankError;
const FAMILIES: Readonly<Record<string, FamilyConstructor>> = { InputError, ImageError, AuthError, ForbiddenError, LimitError, AuditError, OperationError };

/** The error `toWireError` described, rebuilt as the same family with the same code. */
export function fromWireError(wire: WireError): Error {
  if (wire.code === undefined) {
    const error = new Error(wire.message);
    error.name = wire.name;
    if (wire.stack !== undefined) error.stack = wire.stack;
    return error;
  }
  if (wire.code === 'ERR_NOT_FOUND') return new NotFoundError(wire.message);
  if (wire.code === 'ERR_CONFLICT') return new ConflictError(wire.message);
  const Family = FAMILIES[wire.name];
  return Family ? new Family(wire.code as never, wire.message) : new SignalbankError(wire.code, wire.message);
}
