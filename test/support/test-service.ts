/**
 * Starts the real service for integration tests: a fresh SQLite file in a temporary folder, an
 * ephemeral port on 127.0.0.1, the admin created by `init`, and helpers that create members with
 * real key pairs and answer signing clients for them.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JWK } from 'jose';
import { startService, type RunningService, type ServiceOptions } from '../../src/api/service.js';
import { generateMemberKeyPair } from '../../src/auth/member-keys.js';
import type { RequestAlgorithm } from '../../src/auth/request-token.js';
import { SignalbankClient } from '../../src/client/signalbank-client.js';
import { signingKeyFromJwk, type SigningKey } from '../../src/client/sign-request.js';
import { loadConfig, type Config, type ConfigInput } from '../../src/config.js';
import type { IndexFactory } from '../../src/bank/bank.js';
import type { Logger } from 'pino';
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

export interface TestServiceParts {
  /** Replaces the service's own index for a test that needs another. */
  readonly createIndex?: IndexFactory;
  /** Replaces the service's silent logger for a test that reads the log. */
  readonly logger?: Logger;
  /**
   * The service reads the real clock instead of `now`: for tests whose requests are signed at real
   * time by child processes (the CLI). A frozen clock refuses them as issued in the future
   * (`ERR_NOT_YET_VALID`) once the test has run longer than the 30 s of allowed skew.
   */
  readonly realClock?: boolean;
}

export async function startTestService(overrides: ConfigInput = {}, parts: TestServiceParts = {}): Promise<TestService> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-it-'));
  const dbPath = join(dir, 'bank.db');
  const config = loadConfig({}, { host: '127.0.0.1', port: 0, dbPath, logLevel: 'silent', rateLimitPerSecond: 0, ...overrides });
  const harness = {
    now: Date.now(),
  } as TestService;
  const clock = parts.realClock ? Date.now : () => harness.now;
  let service = await startService(config, { clock, ...serviceParts(parts), version: 'test' });
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
      service = await startService({ ...config, port: service.port, ...overrides }, { clock, ...serviceParts(parts), version: 'test' });
    },
  });
}

/** The parts the service itself takes. */
function serviceParts({ createIndex, logger }: TestServiceParts): Pick<ServiceOptions, 'createIndex' | 'logger'> {
  return { ...(createIndex && { createIndex }), ...(logger && { logger }) };
}
