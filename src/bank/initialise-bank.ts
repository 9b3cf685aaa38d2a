/**
 * `init`: creates the database (all migrations) and, when it has no member yet, the first admin
 * member `admin` with a fresh Ed25519 key whose private JWK is written with mode 0600 next to
 * the database. Running it again on an initialised database changes nothing.
 */
import { open } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { defaultLogKeyPath, loadOrCreateLogKey } from '../audit/log-key.js';
import { generateMemberKeyPair, parsePublicJwk } from '../auth/member-keys.js';
import { ConflictError } from '../errors.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { AuditOrigin } from '../store/store.js';

export const ADMIN_MEMBER_ID = 'admin';

export interface InitialiseOptions {
  readonly dbPath: string;
  /** Where to write the admin's private JWK; default `<db dir>/admin.private.jwk.json`. */
  readonly adminKeyPath?: string;
  /** Where the log key lives; default `<db dir>/log.private.jwk.json`. */
  readonly logKeyPath?: string;
}

export interface InitialiseReport {
  readonly dbPath: string;
  readonly schemaVersion: number;
  /** False when the database already had members: nothing was created. */
  readonly created: boolean;
  readonly admin?: { readonly memberId: string; readonly kid: string; readonly privateKeyPath: string };
  readonly logKey?: { readonly kid: string; readonly privateKeyPath: string };
}

const OPERATOR: AuditOrigin = { actor: 'operator', kid: null, proof: null };

export async function initialiseBank(options: InitialiseOptions): Promise<InitialiseReport> {
  const dbPath = resolve(options.dbPath);
  const store = SqliteStore.open({ path: dbPath, migrate: true });
  try {
    const members = await store.listMembers();
    // A first init cut off between the admin member and its key left a bank nobody can sign for: finish it.
    const keylessAdmin = members.length === 1 && members[0]!.id === ADMIN_MEMBER_ID && (await store.listKeys(ADMIN_MEMBER_ID)).length === 0;
    if (members.length > 0 && !keylessAdmin) return { dbPath, schemaVersion: store.schemaVersion, created: false };
    const privateKeyPath = resolve(options.adminKeyPath ?? join(dirname(dbPath), `${ADMIN_MEMBER_ID}.private.jwk.json`));
    const pair = await generateMemberKeyPair('EdDSA');
    // Write the private key first, exclusively and owner-only, so a failure leaves no keyless admin.
    let file;
    try {
      file = await open(privateKeyPath, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new ConflictError(`${privateKeyPath} already exists; move it away or pass another path`);
      throw error;
    }
    try {
      await file.writeFile(`${JSON.stringify(pair.privateJwk, null, 2)}\n`);
      await file.sync();
    } finally {
      await file.close();
    }
    if (!keylessAdmin) await store.createMember({ id: ADMIN_MEMBER_ID, name: 'Operator', roles: ['admin'] }, OPERATOR);
    const key = await store.addKey(ADMIN_MEMBER_ID, await parsePublicJwk(pair.publicJwk), OPERATOR);
    const logKeyPath = resolve(options.logKeyPath ?? defaultLogKeyPath(dbPath));
    const logKey = await loadOrCreateLogKey(store, logKeyPath, () => new Date().toISOString());
    return {
      dbPath,
      schemaVersion: store.schemaVersion,
      created: true,
      admin: { memberId: ADMIN_MEMBER_ID, kid: key.kid, privateKeyPath },
      logKey: { kid: logKey.kid, privateKeyPath: logKeyPath },
    };
  } finally {
    await store.close();
  }
}
