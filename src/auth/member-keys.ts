/**
 * Member key material: generating a key pair (Ed25519 or P-256), checking a public JWK an admin
 * registers (public members only, a supported curve, a valid point), its RFC 7638 thumbprint,
 * and importing keys for jose. Private keys are only ever handled on the member's side.
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { InputError } from '../errors.js';
import type { RequestAlgorithm } from './request-token.js';

export interface MemberKeyPair {
  readonly kid: string;
  readonly alg: RequestAlgorithm;
  /** Private JWK with `kid` and `alg`, for the member's key file (mode 0600). */
  readonly privateJwk: JWK;
  readonly publicJwk: JWK;
}

export async function generateMemberKeyPair(alg: RequestAlgorithm = 'EdDSA'): Promise<MemberKeyPair> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' && { crv: 'Ed25519' }) });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
  return {
    kid,
    alg,
    publicJwk: { ...publicJwk, kid, alg, use: 'sig' },
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' },
  };
}

export interface RegisteredPublicKey {
  readonly alg: RequestAlgorithm;
  /** Only the public members needed to verify: kty, crv, x (and y). */
  readonly publicJwk: JWK;
  readonly preferredKid: string | undefined;
  readonly thumbprint: string;
}

const KID_RE = /^[A-Za-z0-9._:-]{1,128}$/;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

/** Validates a public JWK submitted for registration; throws `ERR_VALIDATION` with a reason. */
export async function parsePublicJwk(value: unknown, path = '/jwk'): Promise<RegisteredPublicKey> {
  const invalid = (message: string) => new InputError('ERR_VALIDATION', message, { errors: [{ path, message }] });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('Expected a JWK object');
  const jwk = value as Record<string, unknown>;
  if (PRIVATE_MEMBERS.some((member) => jwk[member] !== undefined)) {
    throw invalid('This is a private key; register the public JWK only (private keys never leave the member)');
  }
  let alg: RequestAlgorithm;
  let publicJwk: JWK;
  if (jwk['kty'] === 'OKP' && jwk['crv'] === 'Ed25519' && typeof jwk['x'] === 'string') {
    alg = 'EdDSA';
    publicJwk = { kty: 'OKP', crv: 'Ed25519', x: jwk['x'] };
  } else if (jwk['kty'] === 'EC' && jwk['crv'] === 'P-256' && typeof jwk['x'] === 'string' && typeof jwk['y'] === 'string') {
    alg = 'ES256';
    publicJwk = { kty: 'EC', crv: 'P-256', x: jwk['x'], y: jwk['y'] };
  } else {
    throw invalid('Expected an Ed25519 (kty OKP) or P-256 (kty EC) public JWK');
  }
  if (jwk['alg'] !== undefined && jwk['alg'] !== alg) throw invalid(`The JWK's alg ${JSON.stringify(jwk['alg'])} does not fit its curve (${alg})`);
  const kid = jwk['kid'];
  if (kid !== undefined && (typeof kid !== 'string' || !KID_RE.test(kid))) throw invalid('kid must be 1–128 characters of [A-Za-z0-9._:-]');
  try {
    await importJWK(publicJwk, alg);
  } catch {
    throw invalid('The JWK is not a valid public key for its curve');
  }
  return { alg, publicJwk, preferredKid: kid, thumbprint: await calculateJwkThumbprint(publicJwk, 'sha256') };
}

/** Imports a stored public JWK for verification. */
export async function importPublicKey(jwk: JWK, alg: RequestAlgorithm): Promise<CryptoKey> {
  const key = await importJWK(jwk, alg);
  if (key instanceof Uint8Array) throw new InputError('ERR_VALIDATION', 'Expected an asymmetric public key');
  return key;
}
