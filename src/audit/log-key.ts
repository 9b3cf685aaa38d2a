/**
 * The log key: an Ed25519 key that signs checkpoints. Its private JWK lives in a file beside the
 * database (mode 0600, `SIGNALBANK_LOG_KEY`); its public JWK is recorded in the database and
 * served at `/v1/audit/log-key`. A database that already has a log key refuses a missing or
 * different key file rather than silently starting a new one, which would break every
 * auditor's saved checkpoints.
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { open, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { OperationError } from '../errors.js';
import type { Store } from '../store/store.js';
import type { LogSigningKey } from './checkpoint.js';

export function defaultLogKeyPath(dbPath: string): string {
  return join(dirname(resolve(dbPath)), 'log.private.jwk.json');
}

async function readKeyFile(path: string): Promise<JWK | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as JWK;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new OperationError('ERR_CONFIG', `Cannot read the log key ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function writeKeyFile(path: string, jwk: JWK): Promise<void> {
  const file = await open(path, 'wx', 0o600);
  try {
    await file.writeFile(`${JSON.stringify(jwk, null, 2)}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
}

/** Loads the log key from `path`, creating it (and recording its public half) for a new log. */
export async function loadOrCreateLogKey(store: Pick<Store, 'listLogKeys' | 'addLogKey'>, path: string, now: () => string): Promise<LogSigningKey> {
  const known = await store.listLogKeys();
  let jwk = await readKeyFile(path);
  if (!jwk) {
    if (known.length > 0) {
      throw new OperationError('ERR_CONFIG', `The log key file ${path} is missing but this database's log is signed by ${known.map((k) => k.kid).join(', ')}; restore the file (SIGNALBANK_LOG_KEY)`);
    }
    const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const kid = `log-${await calculateJwkThumbprint(publicJwk, 'sha256')}`;
    jwk = { ...(await exportJWK(privateKey)), kid, alg: 'EdDSA', use: 'sig' };
    await writeKeyFile(path, jwk);
  }
  const publicJwk: JWK = { kty: 'OKP', crv: 'Ed25519', x: jwk.x!, kid: jwk.kid!, alg: 'EdDSA', use: 'sig' };
  const kid = jwk.kid;
  if (typeof kid !== 'string' || typeof jwk.d !== 'string') throw new OperationError('ERR_CONFIG', `${path} is not a private Ed25519 JWK with a kid`);
  if (known.length > 0 && !known.some((k) => k.kid === kid && k.publicJwk.x === jwk.x)) {
    throw new OperationError('ERR_CONFIG', `The log key file ${path} (${kid}) is not this database's log key`);
  }
  if (known.length === 0) await store.addLogKey({ kid, publicJwk, createdAt: now() });
  const privateKey = await importJWK(jwk, 'EdDSA');
  if (privateKey instanceof Uint8Array) throw new OperationError('ERR_CONFIG', `${path} is not an asymmetric key`);
  return { kid, privateKey };
}
