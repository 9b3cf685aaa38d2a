/**
 * Signed tree heads (SPEC §5): a checkpoint `{treeSize, rootHash, timestamp, signature}` whose
 * signature is a compact JWS (EdDSA, by the log key) over the RFC 8785 canonical JSON of the
 * other three fields. Signing happens in the service; verification here is what auditors run.
 */
import { CompactSign, compactVerify, decodeProtectedHeader, importJWK, type CryptoKey, type JWK } from 'jose';
import { AuditError } from '../errors.js';
import type { Checkpoint, TreeHead } from '../store/store.js';
import { canonicalJson } from './canonical-json.js';

export const CHECKPOINT_TYPE = 'sb-checkpoint+jws';

export interface LogSigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
}

const encoder = new TextEncoder();

/** The bytes a checkpoint signature covers. */
export function checkpointPayload(head: TreeHead & { timestamp: string }): string {
  return canonicalJson({ treeSize: head.treeSize, rootHash: head.rootHash, timestamp: head.timestamp });
}

export async function signCheckpoint(head: TreeHead, timestamp: string, key: LogSigningKey): Promise<Checkpoint> {
  const signature = await new CompactSign(encoder.encode(checkpointPayload({ ...head, timestamp })))
    .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: CHECKPOINT_TYPE })
    .sign(key.privateKey);
  return { treeSize: head.treeSize, rootHash: head.rootHash, timestamp, signature };
}

/** Checks a checkpoint's shape and signature against one of the log's public keys; answers it typed. */
export async function verifyCheckpoint(value: unknown, logKeys: readonly { kid: string; publicJwk: JWK }[]): Promise<Checkpoint> {
  const invalid = (message: string) => new AuditError('ERR_CHECKPOINT_INVALID', message);
  if (typeof value !== 'object' || value === null) throw invalid('A checkpoint must be a JSON object');
  const { treeSize, rootHash, timestamp, signature } = value as Record<string, unknown>;
  if (!Number.isInteger(treeSize) || (treeSize as number) < 0) throw invalid('treeSize must be a whole number');
  if (typeof rootHash !== 'string' || !/^[0-9a-f]{64}$/.test(rootHash)) throw invalid('rootHash must be 64 lower-case hex digits');
  if (typeof timestamp !== 'string' || Number.isNaN(Date.parse(timestamp))) throw invalid('timestamp must be an RFC 3339 time');
  if (typeof signature !== 'string') throw invalid('signature must be a compact JWS');
  let kid: unknown;
  try {
    kid = decodeProtectedHeader(signature).kid;
  } catch {
    throw invalid('signature is not a compact JWS');
  }
  const key = logKeys.find((k) => k.kid === kid);
  if (!key) throw invalid(`The checkpoint is signed by an unknown log key ${JSON.stringify(kid)}`);
  const checkpoint: Checkpoint = { treeSize: treeSize as number, rootHash, timestamp, signature };
  try {
    const { payload } = await compactVerify(signature, await importJWK(key.publicJwk, 'EdDSA'), { algorithms: ['EdDSA'] });
    if (new TextDecoder().decode(payload) !== checkpointPayload(checkpoint)) throw invalid('The signature covers other values than the checkpoint shows');
  } catch (error) {
    if (error instanceof AuditError) throw error;
    throw invalid('The checkpoint signature does not verify with the log key');
  }
  return checkpoint;
}
