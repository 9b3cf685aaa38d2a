/**
 * The signed-request format of SPEC §3, shared by the signer (client) and the verifier (server):
 * the protected header, the claims, their limits, and the body digest. Parsing here is purely
 * structural; `verify-signed-request.ts` decides whether a well-formed token is acceptable.
 */
import { createHash } from 'node:crypto';
import { AuthError } from '../errors.js';

export const TOKEN_TYPE = 'sb-req+jwt';
export const AUTH_SCHEME = 'JWS';
export const ALLOWED_ALGORITHMS = ['EdDSA', 'ES256'] as const;
export type RequestAlgorithm = (typeof ALLOWED_ALGORITHMS)[number];
export const MAX_LIFETIME_SECONDS = 300;
export const CLOCK_SKEW_SECONDS = 30;
export const JTI_RE = /^[A-Za-z0-9_-]{16,128}$/;

export interface RequestHeader {
  readonly alg: RequestAlgorithm;
  readonly kid: string;
  readonly typ: typeof TOKEN_TYPE;
}

export interface RequestClaims {
  readonly iss: string;
  readonly aud: string;
  readonly iat: number;
  readonly exp: number;
  readonly jti: string;
  readonly htm: string;
  readonly htu: string;
  readonly bd: string;
}

/** base64url (no padding) of SHA-256 over the exact body bytes; empty body → digest of zero bytes. */
export function bodyDigest(body: Uint8Array | undefined): string {
  return createHash('sha256')
    .update(body ?? new Uint8Array(0))
    .digest('base64url');
}

const B64URL_RE = /^[A-Za-z0-9_-]+$/;
const MAX_TOKEN_LENGTH = 8192;

export interface ParsedToken {
  readonly token: string;
  readonly header: RequestHeader;
  readonly claims: RequestClaims;
}

const malformed = (message: string): AuthError => new AuthError('ERR_AUTH_MALFORMED', message);

/** Extracts the compact JWS from an `Authorization` header value. */
export function tokenFromAuthorization(value: string | undefined): string {
  if (value === undefined || value === '') throw new AuthError('ERR_AUTH_MISSING', 'Every /v1 request needs an Authorization: JWS <compact JWS> header');
  const space = value.indexOf(' ');
  const scheme = space < 0 ? value : value.slice(0, space);
  if (scheme !== AUTH_SCHEME) throw malformed(`Expected the ${AUTH_SCHEME} authorization scheme`);
  const token = value.slice(space + 1).trim();
  if (token.length === 0) throw malformed('The authorization header carries no token');
  return token;
}

function decodeJsonSegment(segment: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw malformed(`The token's ${what} is not base64url-encoded JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed(`The token's ${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

/** Parses a compact JWS into header and claims, checking shape only. */
export function parseRequestToken(token: string): ParsedToken {
  if (token.length > MAX_TOKEN_LENGTH) throw malformed(`The token is longer than ${MAX_TOKEN_LENGTH} characters`);
  const parts = token.split('.');
  // The signature part may be empty here so that `alg: none` is named as such below.
  if (parts.length !== 3 || !B64URL_RE.test(parts[0]!) || !B64URL_RE.test(parts[1]!) || !/^[A-Za-z0-9_-]*$/.test(parts[2]!)) {
    throw malformed('The token is not a compact JWS (three base64url parts)');
  }
  const header = decodeJsonSegment(parts[0]!, 'protected header');
  const alg = header['alg'];
  if (typeof alg !== 'string') throw malformed('The protected header has no alg');
  if (!(ALLOWED_ALGORITHMS as readonly string[]).includes(alg)) {
    throw new AuthError('ERR_ALG_NOT_ALLOWED', `Algorithm ${JSON.stringify(alg.slice(0, 20))} is not allowed; use EdDSA or ES256`);
  }
  if (parts[2]!.length === 0) throw malformed('The token has no signature');
  if (header['typ'] !== TOKEN_TYPE) throw malformed(`The protected header's typ must be ${TOKEN_TYPE}`);
  const kid = header['kid'];
  if (typeof kid !== 'string' || kid.length === 0 || kid.length > 256) throw malformed('The protected header needs a kid');
  if (header['crit'] !== undefined || header['b64'] !== undefined) throw malformed('Critical header extensions are not supported');

  const claims = decodeJsonSegment(parts[1]!, 'payload');
  const text = (name: string, max = 2048): string => {
    const value = claims[name];
    if (typeof value !== 'string' || value.length === 0 || value.length > max) throw malformed(`Claim ${name} is missing or not a string`);
    return value;
  };
  const seconds = (name: string): number => {
    const value = claims[name];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw malformed(`Claim ${name} is missing or not a number of seconds`);
    return value;
  };
  const parsed: RequestClaims = {
    iss: text('iss', 63),
    aud: text('aud', 256),
    iat: seconds('iat'),
    exp: seconds('exp'),
    jti: text('jti', 128),
    htm: text('htm', 16),
    htu: text('htu', 8192),
    bd: text('bd', 64),
  };
  if (!JTI_RE.test(parsed.jti)) throw malformed('Claim jti must be 16–128 characters of [A-Za-z0-9_-]');
  if (parsed.iat >= parsed.exp) throw malformed('Claim iat must be before exp');
  return { token, header: { alg: alg as RequestAlgorithm, kid, typ: TOKEN_TYPE }, claims: parsed };
}
