/**
 * Starts the real service for integration tests: a fresh SQLite file in a temporary folder, an
 * ephemeral port on 127.0.0.1, the admin created by `init`, and helpers that create members with
 * real key pairs and answer signing clients for them.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JWK } from 'jose';
import { startService, type RunningService } from '../../src/api/service.js';
import { generateMemberKeyPair } from '../../src/auth/member-keys.js';
import type { RequestAlgorithm } from '../../src/auth/request-token.js';
import { SignalbankClient } from '../../src/client/signalbank-client.js';
import { signingKeyFromJwk, type SigningKey } from '../../src/client/sign-request.js';
import { loadConfig, type Config, type ConfigInput } from '../../src/config.js';
import type { IndexFactory } from '../../src/bank/bank.js';
import type { Role } from '../../src/store/store.js';

export interface TestMember {
  readonly id: string;
  readonly key: SigningKey;
  readonly privateJwk: JWK;
  readonly client: SignalbankClient;
}

export interface TestService {
  readonly service: RunningService;
  readonly dir: string;
  readonly dbPath: string;
  readonly admin: TestMember;
  /** Milliseconds since the epoch as the service sees it; tests move it. */
  now: number;
  member(id: string, roles: Role[], alg?: RequestAlgorithm): Promise<TestMember>;
  clientFor(key: SigningKey): SignalbankClient;
  stop(): Promise<void>;
  /** Stops the service, keeping the database, and starts a new one on it (with `overrides`, if any). */
  restart(overrides?: Partial<Config>): Promise<void>;
}

/** The service's own index; `createIndex` replaces it for a test that needs another. */
export async function startTestService(overrides: ConfigInput = {}, createIndex?: IndexFactory): Promise<TestService> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-it-'));
  const dbPath = join(dir, 'bank.db');
  const config = loadConfig({}, { host: '127.0.0.1', port: 0, dbPath, logLevel: 'silent', rateLimitPerSecond: 0, ...overrides });
  const harness = {
    now: Date.now(),
  } as TestService;
  const clock = () => harness.now;
  let service = await startService(config, { clock, ...(createIndex && { createIndex }), version: 'test' });
  const adminJwk = JSON.parse(readFileSync(service.initialised!.admin!.privateKeyPath, 'utf8')) as JWK;
  const adminKey = await signingKeyFromJwk('admin', adminJwk);
  const clientFor = (key: SigningKey) => new SignalbankClient({ baseUrl: service.url, key, clock });
  const admin: TestMember = { id: 'admin', key: adminKey, privateJwk: adminJwk, client: clientFor(adminKey) };
  // A getter, not a copied value (Object.assign would copy it once): after `restart` it answers the new service.
  Object.defineProperty(harness, 'service', { get: () => service, enumerable: true });
  return Object.assign(harness, {
    dir,
    dbPath,
    admin,
    clientFor,
    async member(id: string, roles: Role[], alg: RequestAlgorithm = 'EdDSA') {
      await admin.client.request('POST', '/v1/admin/members', { id, name: `Member ${id}`, roles });
      const pair = await generateMemberKeyPair(alg);
      const registered = await admin.client.request<{ kid: string }>('POST', `/v1/admin/members/${id}/keys`, { jwk: pair.publicJwk });
      const privateJwk = { ...pair.privateJwk, kid: registered.kid };
      const key = await signingKeyFromJwk(id, privateJwk);
      return { id, key, privateJwk, client: clientFor(key) };
    },
    async stop() {
      await service.close();
      rmSync(dir, { recursive: true, force: true });
    },
    async restart(overrides: Partial<Config> = {}) {
      await service.close();
      service = await startService({ ...config, port: service.port, ...overrides }, { clock, ...(createIndex && { createIndex }), version: 'test' });
    },
  });
}
