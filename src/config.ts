/**
 * Service configuration, read once from the environment (and CLI flags, which win), validated
 * with zod, frozen, and passed to whatever needs it. Nothing else in the code reads
 * `process.env`. Every setting, its variable and default is listed in docs/operations.md.
 */
import { z } from 'zod';
import { InputError, OperationError } from './errors.js';

const MIB = 1024 * 1024;

/**
 * A number from a variable's text, written in decimal digits only: `Number()` would also take a
 * blank (0 — a random port, rate limiting off), hex (`0x50`) and exponents (`8e3`).
 */
const numberText = (pattern: RegExp, expected: string) => z.union([z.number(), z.string().regex(pattern, expected).transform(Number)]);
const integer = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  numberText(/^\d{1,16}$/, 'Expected a whole number written in digits').pipe(z.number().int().min(min).max(max));
const decimal = (min: number) => numberText(/^\d{1,16}(\.\d{1,16})?$/, 'Expected a number written in digits').pipe(z.number().min(min));
/** A setting that must say something: a blank (`" "`) is refused, not taken as a path or name. */
const text = z.string().refine((value) => value.trim() !== '', 'Expected a value that is not blank');
const bool = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => ['true', '1', 'yes'].includes(v))]);

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** A duration such as `7d`, `12h`, `30m`, `45s`, `500ms`, or a bare number of seconds; in milliseconds. */
const duration = z.union([
  z.number().int().min(0),
  z
    .string()
    .regex(/^\d{1,12}(ms|s|m|h|d)?$/, 'Expected a duration such as 7d, 12h, 30m, 45s or 500ms')
    .transform((text) => {
      const [, amount, unit] = /^(\d+)(ms|s|m|h|d)?$/.exec(text)!;
      return Number(amount) * DURATION_UNITS_MS[unit ?? 's']!;
    }),
]);

const ConfigSchema = z.object({
  host: text.default('127.0.0.1'),
  port: integer(0, 65535).default(8080),
  dbPath: text.default('./data/signalbank.db'),
  audience: text.pipe(z.string().max(256)).default('signalbank'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Initialise the database (migrations, admin member and key) when it does not exist yet. */
  initIfMissing: bool.default(true),
  /** Largest JSON body, in bytes (SPEC §4: 16 MiB). */
  jsonBodyLimitBytes: integer(1024).default(16 * MIB),
  /** Largest NDJSON job body, in bytes (SPEC §4: 1 GiB). */
  ndjsonBodyLimitBytes: integer(1024).default(1024 * MIB),
  /** Time allowed to receive all request headers. */
  headersTimeoutMs: integer(1000).default(10_000),
  /** Time allowed to receive a whole request, body included. */
  requestTimeoutMs: integer(1000).default(120_000),
  /** Idle time after which a connection with no traffic is closed. */
  idleTimeoutMs: integer(1000).default(30_000),
  keepAliveTimeoutMs: integer(100).default(5_000),
  /** Per-member token bucket: sustained requests per second and burst size. 0 disables. */
  rateLimitPerSecond: decimal(0).default(200),
  rateLimitBurst: integer(1).default(400),
  /** Graceful shutdown: how long in-flight requests may take before connections are cut. */
  shutdownGraceMs: integer(0).default(10_000),
  /** Private JWK of the log key that signs checkpoints; default: log.private.jwk.json beside the database. */
  logKeyPath: text.optional(),
  /** A checkpoint is signed after this many new audit entries… */
  checkpointEveryEntries: integer(1).default(10_000),
  /** …or after this long, when the log has grown. */
  checkpointEveryMs: integer(1000).default(60_000),
  /** The Hamming index for perceptual types: multi-index hashing (default) or the plain linear scan. */
  indexKind: z.enum(['multi-index', 'linear-scan']).default('multi-index'),
  /** Worker threads for batch searches; default: one per core. 0 searches on the request thread. */
  searchThreads: integer(0, 64).optional(),
  /** Niceness of the search threads (0 normal … 19 lowest), so that batch work yields to the request thread. */
  searchThreadNiceness: integer(0, 19).default(10),
  /** Local hashing: largest image accepted, in pixels (decompression-bomb guard). */
  maxImagePixels: integer(256).default(100_000_000),
  /** Batch jobs: most lines one job takes (SPEC §5: 10 million). */
  jobMaxLines: integer(1).default(10_000_000),
  /** Batch jobs: longest line, in bytes; a longer one is an error line. */
  jobMaxLineBytes: integer(256).default(64 * 1024),
  /** Batch jobs: lines per stored block, a job's unit of work — answered and recorded in one step (one transaction, one short stretch of the request thread). Applies to jobs uploaded after it is set. */
  jobChunkSize: integer(1, 100_000).default(512),
  /** Batch jobs: queries handed to the search threads at once (batched search pays from ~1,000 a thread). */
  jobSearchBatch: integer(1, 100_000).default(4096),
  /** Batch jobs: how long finished jobs and their results are kept, in milliseconds (variable: a duration). */
  jobRetentionMs: duration.default(7 * 86_400_000),
  /** Batch jobs: how often expired jobs are looked for, in milliseconds (variable: a duration). */
  jobSweepIntervalMs: duration.pipe(z.number().int().min(10)).default(600_000),
  /** Batch jobs: do not run jobs in this process (they stay queued, and are kept). */
  jobRunnerPaused: bool.default(false),
});

export type Config = Readonly<z.infer<typeof ConfigSchema>>;
export type ConfigInput = Partial<Record<keyof Config, unknown>>;

/** Environment variable for each setting. */
export const CONFIG_ENV: Readonly<Record<keyof Config, string>> = {
  host: 'SIGNALBANK_HOST',
  port: 'PORT',
  dbPath: 'SIGNALBANK_DB',
  audience: 'SIGNALBANK_AUDIENCE',
  logLevel: 'SIGNALBANK_LOG_LEVEL',
  initIfMissing: 'SIGNALBANK_INIT_IF_MISSING',
  jsonBodyLimitBytes: 'SIGNALBANK_JSON_BODY_LIMIT',
  ndjsonBodyLimitBytes: 'SIGNALBANK_NDJSON_BODY_LIMIT',
  headersTimeoutMs: 'SIGNALBANK_HEADERS_TIMEOUT_MS',
  requestTimeoutMs: 'SIGNALBANK_REQUEST_TIMEOUT_MS',
  idleTimeoutMs: 'SIGNALBANK_IDLE_TIMEOUT_MS',
  keepAliveTimeoutMs: 'SIGNALBANK_KEEP_ALIVE_TIMEOUT_MS',
  rateLimitPerSecond: 'SIGNALBANK_RATE_LIMIT_PER_SECOND',
  rateLimitBurst: 'SIGNALBANK_RATE_LIMIT_BURST',
  shutdownGraceMs: 'SIGNALBANK_SHUTDOWN_GRACE_MS',
  logKeyPath: 'SIGNALBANK_LOG_KEY',
  checkpointEveryEntries: 'SIGNALBANK_CHECKPOINT_EVERY_ENTRIES',
  checkpointEveryMs: 'SIGNALBANK_CHECKPOINT_EVERY_MS',
  indexKind: 'SIGNALBANK_INDEX',
  searchThreads: 'SIGNALBANK_SEARCH_THREADS',
  searchThreadNiceness: 'SIGNALBANK_SEARCH_NICENESS',
  maxImagePixels: 'SIGNALBANK_MAX_IMAGE_PIXELS',
  jobMaxLines: 'SIGNALBANK_JOB_MAX_LINES',
  jobMaxLineBytes: 'SIGNALBANK_JOB_MAX_LINE_BYTES',
  jobChunkSize: 'SIGNALBANK_JOB_CHUNK',
  jobSearchBatch: 'SIGNALBANK_JOB_SEARCH_BATCH',
  jobRetentionMs: 'SIGNALBANK_JOB_RETENTION',
  jobSweepIntervalMs: 'SIGNALBANK_JOB_SWEEP_INTERVAL',
  jobRunnerPaused: 'SIGNALBANK_JOB_RUNNER_PAUSED',
};

/**
 * Builds the configuration from environment variables, overridden by explicit values
 * (CLI flags, tests). Unset or empty variables take the default.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: ConfigInput = {}): Config {
  const raw: Record<string, unknown> = {};
  for (const [key, variable] of Object.entries(CONFIG_ENV)) {
    const value = env[variable];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  for (const [key, value] of Object.entries(overrides)) if (value !== undefined) raw[key] = value;
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '');
      const variable = CONFIG_ENV[key as keyof Config] ?? key;
      return `${variable}: ${issue.message}`;
    });
    throw new OperationError('ERR_CONFIG', `Invalid configuration: ${problems.join('; ')}`);
  }
  return Object.freeze(parsed.data);
}

const ClientSettingsSchema = z.object({
  server: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:8080'),
  member: z.string().regex(/^[a-z][a-z0-9-]{1,62}$/, 'Expected a member id such as acme-video'),
  key: z.string().min(1),
  audience: z.string().min(1).max(256).default('signalbank'),
});

export type ClientSettings = Readonly<z.infer<typeof ClientSettingsSchema>>;

/** Environment variable for each client setting (SPEC §6). */
export const CLIENT_ENV: Readonly<Record<keyof ClientSettings, string>> = {
  server: 'SIGNALBANK_URL',
  member: 'SIGNALBANK_MEMBER',
  key: 'SIGNALBANK_KEY',
  audience: 'SIGNALBANK_AUDIENCE',
};

/** Client settings for CLI commands that call the service: flags win over the environment. */
export function loadClientSettings(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Record<keyof ClientSettings, unknown>> = {}): ClientSettings {
  const raw: Record<string, unknown> = {};
  for (const [key, variable] of Object.entries(CLIENT_ENV)) {
    const value = env[variable];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  for (const [key, value] of Object.entries(overrides)) if (value !== undefined) raw[key] = value;
  const parsed = ClientSettingsSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '') as keyof ClientSettings;
      return `--${key} / ${CLIENT_ENV[key] ?? key}: ${raw[key] === undefined ? 'required' : issue.message}`;
    });
    throw new InputError('ERR_VALIDATION', `Client settings: ${problems.join('; ')}`);
  }
  return Object.freeze(parsed.data);
}
