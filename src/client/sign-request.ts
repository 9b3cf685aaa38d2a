/**
 * Signs requests the way SPEC §3 asks: a compact JWS with header {alg, kid, typ: sb-req+jwt} over
 * {iss, aud, iat, exp, jti, htm, htu, bd}, sent as `Authorization: JWS <token>`. Used by the CLI,
 * the library's client, the tests and the benchmarks; every call gets a fresh random jti.
 */
import { CompactSign, importJWK, type CryptoKey, type JWK } from 'jose';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { AUTH_SCHEME, bodyDigest, TOKEN_TYPE, type RequestAlgorithm, type RequestClaims } from '../auth/request-token.js';
import { InputError } from '../errors.js';

export interface SigningKey {
  readonly memberId: string;
  readonly kid: string;
  readonly alg: RequestAlgorithm;
  readonly privateKey: CryptoKey;
}

export interface RequestToSign {
  readonly method: string;
  /** Path and query exactly as they will be sent, e.g. `/v1/match?type=pdq&hash=…`. */
  readonly target: string;
  readonly body?: Uint8Array | undefined;
  /** base64url SHA-256 of a body too large to pass as bytes (a spooled job upload); wins over `body`. */
  readonly bodyDigest?: string | undefined;
}

export interface SignOptions {
  readonly audience?: string;
  /** Milliseconds since the epoch. */
  readonly now?: number;
  readonly lifetimeSeconds?: number;
  readonly jti?: string;
  /** Override any claim (tests of the verifier use this to build bad tokens). */
  readonly claims?: Partial<Record<keyof RequestClaims, unknown>>;
}

const encoder = new TextEncoder();

/** Answers the `Authorization` header value for one request. */
export async function signRequest(key: SigningKey, request: RequestToSign, options: SignOptions = {}): Promise<string> {
  const iat = Math.floor((options.now ?? Date.now()) / 1000);
  const claims = {
    iss: key.memberId,
    aud: options.audience ?? 'signalbank',
    iat,
    exp: iat + (options.lifetimeSeconds ?? 60),
    jti: options.jti ?? randomBytes(18).toString('base64url'),
    htm: request.method.toUpperCase(),
    htu: request.target,
    bd: request.bodyDigest ?? bodyDigest(request.body),
    ...options.claims,
  };
  const token = await new CompactSign(encoder.encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: TOKEN_TYPE })
    .sign(key.privateKey);
  return `${AUTH_SCHEME} ${token}`;
}

/** Builds a signing key from a private JWK (as written by `keygen` or `init`). */
export async function signingKeyFromJwk(memberId: string, jwk: JWK): Promise<SigningKey> {
  if (typeof jwk.d !== 'string') throw new InputError('ERR_VALIDATION', 'The key file holds no private key (no "d")');
  const alg: RequestAlgorithm | undefined = jwk.kty === 'OKP' && jwk.crv === 'Ed25519' ? 'EdDSA' : jwk.kty === 'EC' && jwk.crv === 'P-256' ? 'ES256' : undefined;
  if (alg === undefined) throw new InputError('ERR_VALIDATION', 'The key file must hold an Ed25519 or P-256 private JWK');
  if (typeof jwk.kid !== 'string' || jwk.kid.length === 0) throw new InputError('ERR_VALIDATION', 'The key file needs the kid the server registered for this key');
  const privateKey = await importJWK(jwk, alg);
  if (privateKey instanceof Uint8Array) throw new InputError('ERR_VALIDATION', 'Expected an asymmetric private key');
  return { memberId, kid: jwk.kid, alg, privateKey };
}

/** Reads a private JWK file. */
export async function loadSigningKey(memberId: string, path: string): Promise<SigningKey> {
  let jwk: JWK;
  try {
    jwk = JSON.parse(await readFile(path, 'utf8')) as JWK;
  } catch (error) {
    throw new InputError('ERR_VALIDATION', `Cannot read the private key file ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return signingKeyFromJwk(memberId, jwk);
}
