import { CompactSign, importJWK } from 'jose';
import { sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateMemberKeyPair, type MemberKeyPair } from '../../src/auth/member-keys.js';
import { importVerificationKey, signatureVerifies } from '../../src/auth/request-signature.js';
import { parseRequestToken, type RequestAlgorithm } from '../../src/auth/request-token.js';
import { signRequest } from '../../src/client/sign-request.js';

async function tokenOf(pair: MemberKeyPair): Promise<string> {
  const privateKey = await importJWK(pair.privateJwk, pair.alg);
  const authorization = await signRequest({ memberId: 'acme', kid: pair.kid, alg: pair.alg, privateKey: privateKey as never }, { method: 'GET', target: '/v1/taxonomy' });
  return authorization.slice('JWS '.length);
}

const withSignature = (token: string, signature: string): string => `${token.slice(0, token.lastIndexOf('.'))}.${signature}`;
const signatureOf = (token: string): string => token.slice(token.lastIndexOf('.') + 1);

describe.each<RequestAlgorithm>(['EdDSA', 'ES256'])('signatureVerifies (%s)', (alg) => {
  it('accepts the signer’s token and refuses any change to it', async () => {
    const pair = await generateMemberKeyPair(alg);
    const key = await importVerificationKey(pair.publicJwk, alg);
    const token = await tokenOf(pair);
    expect(await signatureVerifies(parseRequestToken(token), key)).toBe(true);
    const [header, payload] = token.split('.');
    const otherPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), htu: '/v1/match' })).toString('base64url');
    expect(await signatureVerifies(parseRequestToken(`${header}.${otherPayload}.${signatureOf(token)}`), key)).toBe(false);
    const other = await importVerificationKey((await generateMemberKeyPair(alg)).publicJwk, alg);
    expect(await signatureVerifies(parseRequestToken(token), other)).toBe(false);
  });

  it('refuses a signature that is not canonical base64url of 64 bytes, without throwing', async () => {
    const pair = await generateMemberKeyPair(alg);
    const key = await importVerificationKey(pair.publicJwk, alg);
    const token = await tokenOf(pair);
    const signature = signatureOf(token);
    // 86 characters carry 64 bytes and 4 spare bits, zero when canonical; setting one decodes to the same bytes.
    const last = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(signature.at(-1)!);
    const sloppy = signature.slice(0, -1) + 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[last | 1]!;
    expect(Buffer.from(sloppy, 'base64url')).toEqual(Buffer.from(signature, 'base64url'));
    for (const bad of [sloppy, signature.slice(0, -2), `${signature}AA`, 'c2ln', 'A']) {
      expect(await signatureVerifies(parseRequestToken(withSignature(token, bad)), key)).toBe(false);
    }
  });

  it('answers false for a token of the other algorithm', async () => {
    const pair = await generateMemberKeyPair(alg);
    const key = await importVerificationKey(pair.publicJwk, alg);
    const otherAlg: RequestAlgorithm = alg === 'EdDSA' ? 'ES256' : 'EdDSA';
    const foreign = await tokenOf({ ...(await generateMemberKeyPair(otherAlg)), kid: pair.kid });
    expect(await signatureVerifies(parseRequestToken(foreign), key)).toBe(false);
  });
});

describe('ES256 signatures', () => {
  it('are read in the JWS r||s form: the same signature DER-encoded is refused', async () => {
    const pair = await generateMemberKeyPair('ES256');
    const key = await importVerificationKey(pair.publicJwk, 'ES256');
    const token = await tokenOf(pair);
    const input = token.slice(0, token.lastIndexOf('.'));
    const der = sign('sha256', Buffer.from(input), { key: (await importJWK(pair.privateJwk, 'ES256')) as never, dsaEncoding: 'der' });
    expect(await signatureVerifies(parseRequestToken(withSignature(token, der.toString('base64url'))), key)).toBe(false);
    const p1363 = sign('sha256', Buffer.from(input), { key: (await importJWK(pair.privateJwk, 'ES256')) as never, dsaEncoding: 'ieee-p1363' });
    expect(await signatureVerifies(parseRequestToken(withSignature(token, p1363.toString('base64url'))), key)).toBe(true);
  });

  it('are accepted exactly as jose signs them', async () => {
    const pair = await generateMemberKeyPair('ES256');
    const key = await importVerificationKey(pair.publicJwk, 'ES256');
    const claims = { iss: 'acme', aud: 'signalbank', iat: 1, exp: 2, jti: 'abcdefghijklmnop', htm: 'GET', htu: '/', bd: 'x' };
    const token = await new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
      .setProtectedHeader({ alg: 'ES256', kid: pair.kid, typ: 'sb-req+jwt' })
      .sign(await importJWK(pair.privateJwk, 'ES256'));
    expect(await signatureVerifies(parseRequestToken(token), key)).toBe(true);
  });
});

describe('importVerificationKey', () => {
  it('refuses a key of another algorithm than the one named', async () => {
    const p256 = (await generateMemberKeyPair('ES256')).publicJwk;
    await expect(importVerificationKey(p256, 'EdDSA')).rejects.toThrow();
    const ed = (await generateMemberKeyPair('EdDSA')).publicJwk;
    await expect(importVerificationKey(ed, 'ES256')).rejects.toThrow();
  });
});
