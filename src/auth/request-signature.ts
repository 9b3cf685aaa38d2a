/**
 * Checks the signature of a parsed request token (SPEC §3) with `node:crypto`'s one-shot `verify`,
 * which runs on libuv's thread pool: Ed25519 (`EdDSA`) or ECDSA P-256 with SHA-256 (`ES256`, the signature in
 * JWS's fixed-width r||s form, IEEE P1363), over the exact ASCII bytes of `protected.payload`
 * (RFC 7515 §5.2). Keys are imported from their JWK by jose, as everywhere else, and turned into
 * a `KeyObject` once. This replaces jose's `compactVerify` on the server's hot path only: the
 * check still runs on libuv's thread pool, but without WebCrypto's and jose's per-call work on
 * the request thread, which is what bounds the service (docs/decisions.md, "Signed requests").
 * The signature part must be canonical base64url of exactly 64 bytes, so whatever this accepts
 * jose's `compactVerify` (the auditor's check of logged requests) accepts too.
 */
import { KeyObject, verify } from 'node:crypto';
import type { JWK } from 'jose';
import { OperationError } from '../errors.js';
import { importPublicKey } from './member-keys.js';
import type { ParsedToken, RequestAlgorithm } from './request-token.js';

/** Ed25519 signatures and P-256 r||s signatures are both 64 bytes. */
const SIGNATURE_BYTES = 64;

/** A public key ready for `signatureVerifies`, bound to its one algorithm. */
export interface VerificationKey {
  readonly alg: RequestAlgorithm;
  readonly key: KeyObject;
}

/** Imports a stored public JWK (through jose) for `alg`; refuses a key of another type. */
export async function importVerificationKey(jwk: JWK, alg: RequestAlgorithm): Promise<VerificationKey> {
  const key = KeyObject.from(await importPublicKey(jwk, alg));
  const fits =
    key.type === 'public' &&
    (alg === 'EdDSA' ? key.asymmetricKeyType === 'ed25519' : key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1');
  // Registration (`parsePublicJwk`) makes this impossible; a row edited by hand could still do it.
  if (!fits) throw new OperationError('ERR_INTERNAL', `The stored key is not a public key for ${alg}`);
  return { alg, key };
}

/** Whether the token's signature verifies with `key` under the key's algorithm; never rejects. */
export function signatureVerifies(token: ParsedToken, key: VerificationKey): Promise<boolean> {
  if (token.header.alg !== key.alg) return Promise.resolve(false);
  const end = token.token.lastIndexOf('.');
  const encoded = token.token.slice(end + 1);
  const signature = Buffer.from(encoded, 'base64url');
  // Node's base64url decoding is lenient (stray characters, non-zero trailing bits): insist on the canonical form.
  if (signature.length !== SIGNATURE_BYTES || signature.toString('base64url') !== encoded) return Promise.resolve(false);
  const signingInput = Buffer.from(token.token.slice(0, end), 'ascii');
  return new Promise((resolve) => {
    const done = (error: Error | null, valid: boolean): void => resolve(error === null && valid);
    try {
      if (key.alg === 'EdDSA') verify(null, signingInput, key.key, signature, done);
      else verify('sha256', signingInput, { key: key.key, dsaEncoding: 'ieee-p1363' }, signature, done);
    } catch {
      resolve(false);
    }
  });
}
