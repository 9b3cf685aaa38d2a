/**
 * A bank database for the HTTP benchmark: `init` (migrations, admin, log key), a matcher and a
 * submitter member with real Ed25519 keys (added through the store, with their audit entries),
 * then `count` PDQ signals written straight into the `signals` and `submissions` tables in large
 * transactions with `synchronous=OFF` — a restore-like bulk load, so that 10 M rows take minutes
 * instead of the hours the signed, audited submit path would take. These rows carry no audit
 * entries or change-feed rows; the service reads only `signals` when it loads its index at start,
 * exactly as in production. Every row is a real signal (public id, labels, one active submission).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { generateMemberKeyPair, parsePublicJwk } from '../../src/auth/member-keys.js';
import { initialiseBank } from '../../src/bank/initialise-bank.js';
import { signingKeyFromJwk, type SigningKey } from '../../src/client/sign-request.js';
import { openDatabase } from '../../src/store/sqlite/database.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { HashSet } from './hash-set.js';

export interface BenchBank {
  readonly dbPath: string;
  readonly matcher: SigningKey;
  readonly submitter: SigningKey;
  /** Rows written (a repeated hash of the data set is stored once). */
  readonly signals: number;
  readonly setupSeconds: number;
}

const OPERATOR = { actor: 'operator', kid: null, proof: null };
const ROWS_PER_TRANSACTION = 100_000;

async function addMember(store: SqliteStore, id: string, role: 'matcher' | 'submitter'): Promise<SigningKey> {
  const pair = await generateMemberKeyPair('EdDSA');
  await store.createMember({ id, name: `Benchmark ${role}`, roles: [role] }, OPERATOR);
  const key = await store.addKey(id, await parsePublicJwk(pair.publicJwk), OPERATOR);
  return signingKeyFromJwk(id, { ...pair.privateJwk, kid: key.kid });
}

/** Creates `dir/bank.db` holding every hash of `set` as an active PDQ signal of `bench-submitter`. */
export async function buildBenchBank(dir: string, set: HashSet, onProgress?: (rows: number) => void): Promise<BenchBank> {
  const started = performance.now();
  const dbPath = join(dir, 'bank.db');
  await initialiseBank({ dbPath });
  const store = SqliteStore.open({ path: dbPath });
  let matcher: SigningKey;
  let submitter: SigningKey;
  try {
    matcher = await addMember(store, 'bench-matcher', 'matcher');
    submitter = await addMember(store, 'bench-submitter', 'submitter');
  } finally {
    await store.close();
  }

  const db = openDatabase(dbPath);
  let signals = 0;
  try {
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -4000000');
    const insertSignal = db.prepare(`INSERT OR IGNORE INTO signals (public_id, type, hash, media, status, labels, submitters,
      confirms, false_positives, dispute_labels, first_seen, updated_at) VALUES (?, 'pdq', ?, 'image', 'active', ?, 1, 0, 0, 0, ?, ?)`);
    const insertSubmission = db.prepare(`INSERT INTO submissions (signal_id, member_id, status, labels, media, quality, ref,
      created_at, updated_at) VALUES (?, 'bench-submitter', 'active', ?, 'image', 90, NULL, ?, ?)`);
    const labels = ['["suicide"]', '["self_harm"]', '["graphic","suicide"]', '["self_harm","instructional"]'];
    const count = set.ids.length;
    const insertRange = db.transaction((from: number, to: number) => {
      const at = new Date().toISOString();
      const ids = randomBytes(15 * (to - from));
      for (let row = from; row < to; row++) {
        const publicId = ids.subarray((row - from) * 15, (row - from) * 15 + 15).toString('base64url');
        const hash = Buffer.from(set.hashes.buffer, set.hashes.byteOffset + row * 32, 32);
        const label = labels[row % labels.length]!;
        const inserted = insertSignal.run(publicId, hash, label, at, at);
        if (inserted.changes === 0) continue;
        insertSubmission.run(inserted.lastInsertRowid, label, at, at);
        signals++;
      }
    });
    for (let from = 0; from < count; from += ROWS_PER_TRANSACTION) {
      insertRange(from, Math.min(count, from + ROWS_PER_TRANSACTION));
      onProgress?.(Math.min(count, from + ROWS_PER_TRANSACTION));
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  return { dbPath, matcher, submitter, signals, setupSeconds: (performance.now() - started) / 1000 };
}
