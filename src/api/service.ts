/**
 * Assembles and runs the service: opens the store (initialising a new database when configured
 * to), loads the bank's indexes, builds the verifier, rate limiter, metrics, routes and the
 * express app, and serves them on an HTTP server with header, request and idle timeouts.
 * Protocol errors the HTTP parser catches (oversized headers, timeouts) are answered as problem
 * JSON too. `close()` shuts down gracefully: stop accepting, let in-flight requests finish (up to
 * the grace period), then close the database.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import { Bank, type IndexFactory } from '../bank/bank.js';
import { createHammingIndex } from '../index/create-hamming-index.js';
import { initialiseBank, type InitialiseReport } from '../bank/initialise-bank.js';
import { ReplayGuard } from '../auth/replay-guard.js';
import { CLOCK_SKEW_SECONDS } from '../auth/request-token.js';
import { RequestVerifier } from '../auth/verify-signed-request.js';
import type { Config } from '../config.js';
import { LimitError, InputError, OperationError, type SignalbankError } from '../errors.js';
import { BackgroundUpkeep } from '../store/sqlite/background-upkeep.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { createApp } from './app.js';
import { createMetrics, type ServiceMetrics } from './metrics.js';
import { buildOpenApiDocument } from './openapi.js';
import { PROBLEM_CONTENT_TYPE, toProblem } from './problem.js';
import { RateLimiter } from './rate-limiter.js';
import { routeTable } from './route-table.js';
import { CheckpointPublisher } from '../audit/checkpoint-publisher.js';
import { defaultLogKeyPath, loadOrCreateLogKey } from '../audit/log-key.js';
import { MatchCounter } from '../audit/match-counter.js';
import { JobService } from '../jobs/job-service.js';
import { RequestActivity } from './request-activity.js';
import { createServiceLogger } from '../runtime/service-logger.js';

export interface ServiceOptions {
  readonly logger?: Logger;
  /** Milliseconds since the epoch; tests freeze it. */
  readonly clock?: () => number;
  /** How each perceptual type's index is built; default: from `indexKind` and `searchThreads`. */
  readonly createIndex?: IndexFactory;
  readonly version?: string;
}

export interface RunningService {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  readonly bank: Bank;
  readonly store: SqliteStore;
  readonly checkpoints: CheckpointPublisher;
  readonly matchCounter: MatchCounter;
  readonly jobs: JobService;
  /** What `init` did when this start created the bank: a new database, or one that a failed first start left without its admin. */
  readonly initialised: InitialiseReport | undefined;
  /** Milliseconds the index load took at start. */
  readonly indexLoadMs: number;
  close(): Promise<void>;
}

const JTI_PRUNE_INTERVAL_MS = 60_000;
/** How often incomplete requests are checked against the header and request timeouts. */
const CONNECTION_CHECK_MS = 500;

/** The index the configuration asks for, one per perceptual signal type. */
export function configuredIndexFactory(config: Config): IndexFactory {
  return () =>
    createHammingIndex({ kind: config.indexKind, workerNiceness: config.searchThreadNiceness, ...(config.searchThreads !== undefined && { workers: config.searchThreads }) });
}

export async function startService(config: Config, options: ServiceOptions = {}): Promise<RunningService> {
  const logger = options.logger ?? createServiceLogger(config.logLevel);
  const clock = options.clock ?? Date.now;
  let initialised: InitialiseReport | undefined;
  // Not only when the file is missing: a first start that failed half-way (say, on an admin key
  // file already there) leaves a database with no member, which nobody could then administer.
  // Initialising an initialised bank changes nothing.
  if (config.dbPath !== ':memory:' && config.initIfMissing) {
    const report = await initialiseBank({ dbPath: config.dbPath, ...(config.logKeyPath !== undefined && { logKeyPath: config.logKeyPath }) });
    if (report.created) {
      initialised = report;
      logger.info({ db: report.dbPath, admin: report.admin }, 'initialised a new database');
    }
  }
  const store = SqliteStore.open({
    path: config.dbPath,
    migrate: true,
    clock,
    submitWriter: true,
    onSubmitWriterFailure: (error) => logger.fatal({ err: error }, 'submissions can no longer be committed; restart the service (/readyz now fails)'),
  });
  let shuttingDown = false;
  try {
    const loadStarted = performance.now();
    const bank = await Bank.open(store, options.createIndex ?? configuredIndexFactory(config));
    const indexLoadMs = performance.now() - loadStarted;
    logger.info({ indexSizes: bank.indexSizes(), ms: Math.round(indexLoadMs) }, 'index loaded');

    const logKey = await loadOrCreateLogKey(store, config.logKeyPath ?? defaultLogKeyPath(config.dbPath), () => new Date(clock()).toISOString());
    const checkpoints = new CheckpointPublisher(store, logKey, { everyEntries: config.checkpointEveryEntries, everyMs: config.checkpointEveryMs, clock, logger });
    const matchCounter = new MatchCounter(store, clock, logger);
    const metrics = createMetrics({ sizes: () => bank.indexSizes(), memoryBytes: () => bank.indexMemoryBytes() }, () => jobs.store.countByStatus());
    const requestActivity = new RequestActivity();
    const jobs = new JobService({ db: store.db, writes: store.writes, bank, config, metrics, counter: matchCounter, logger, clock, foreground: requestActivity });
    const verifier = new RequestVerifier({ store, replay: new ReplayGuard(store), audience: config.audience, clock });
    const rateLimiter = new RateLimiter(config.rateLimitPerSecond, config.rateLimitBurst, clock);
    let openApi: Record<string, unknown> | undefined;
    const readiness = {
      async checks() {
        let database = true;
        try {
          await store.ping();
        } catch {
          database = false;
        }
        return { database, submissions: store.submitWriterFailure === undefined, migrations: store.schemaVersion > 0, index: true, accepting: !shuttingDown };
      },
    };
    const routes = routeTable({
      bank,
      store,
      metrics,
      readiness,
      matchCounter,
      checkpoints,
      jobs,
      openApi: () => (openApi ??= buildOpenApiDocument(routes, { version: options.version ?? '0.0.0', audience: config.audience })),
    });
    const app = createApp({ config, routes, verifier, rateLimiter, metrics, logger });

    const server = createServer(
      {
        headersTimeout: config.headersTimeoutMs,
        requestTimeout: config.requestTimeoutMs,
        keepAliveTimeout: config.keepAliveTimeoutMs,
        // Node checks those two timeouts only this often (default 30 s): a client dribbling its
        // headers or body would otherwise hold its connection up to 30 s past the limit.
        connectionsCheckingInterval: Math.min(CONNECTION_CHECK_MS, config.headersTimeoutMs),
      },
      app,
    );
    server.timeout = config.idleTimeoutMs;
    requestActivity.track(server);
    server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => answerClientError(error, socket, metrics, logger));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, config)));
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    logger.info({ url }, 'listening');

    checkpoints.start();
    matchCounter.start();
    await jobs.start();
    const upkeep = config.dbPath === ':memory:' ? undefined : BackgroundUpkeep.start(store, { logger });
    const pruneTimer = setInterval(() => {
      store.pruneJtis(Math.floor(clock() / 1000) - CLOCK_SKEW_SECONDS).catch((error: unknown) => logger.error({ err: error }, 'pruning jtis failed'));
    }, JTI_PRUNE_INTERVAL_MS);
    pruneTimer.unref();

    let closing: Promise<void> | undefined;
    const close = (): Promise<void> =>
      (closing ??= (async () => {
        shuttingDown = true;
        clearInterval(pruneTimer);
        logger.info('shutting down: finishing in-flight requests');
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const grace = setTimeout(() => server.closeAllConnections(), config.shutdownGraceMs);
        await closed;
        clearTimeout(grace);
        await jobs.stop();
        await upkeep?.stop();
        await bank.close();
        await matchCounter.stop().catch((error: unknown) => logger.error({ err: error }, 'writing match counts failed'));
        await checkpoints.stop().catch((error: unknown) => logger.error({ err: error }, 'the last checkpoint failed'));
        await store.close();
        logger.info('stopped');
      })());
    return { url, port, server, bank, store, checkpoints, matchCounter, jobs, initialised, indexLoadMs, close };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** Why the service cannot listen, in the operator's terms when it is their setting (the port or host). */
function listenError(error: NodeJS.ErrnoException, config: Config): Error {
  const where = `${config.host} port ${config.port}`;
  if (error.code === 'EADDRINUSE') return new OperationError('ERR_CONFIG', `Cannot listen on ${where}: another process uses it (set PORT or --port)`, { cause: error });
  if (error.code === 'EACCES') return new OperationError('ERR_CONFIG', `Cannot listen on ${where}: not allowed (ports below 1024 need privileges; set PORT or --port)`, { cause: error });
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
    return new OperationError('ERR_CONFIG', `Cannot listen on ${where}: this machine has no such address (set SIGNALBANK_HOST or --host)`, { cause: error });
  }
  return error;
}

/**
 * Answers a request the HTTP parser refused (oversized headers, timeouts, garbage) as problem JSON,
 * counted and logged like any refused request: express never sees it, and a flood of them would
 * otherwise leave no trace in the rejection metrics or the log.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket, metrics: ServiceMetrics, logger: Logger): void {
  if (!socket.writable || (error.code === 'ECONNRESET' && socket.destroyed)) {
    socket.destroy();
    return;
  }
  let coded: SignalbankError;
  let status: number | undefined;
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    coded = new LimitError('ERR_TOO_LARGE', 'The request headers are larger than the limit');
    status = 431;
  } else if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT' || error.code === 'ETIMEDOUT') {
    coded = new LimitError('ERR_TIMEOUT', 'The request was not received in time');
  } else {
    coded = new InputError('ERR_VALIDATION', 'The request is not valid HTTP');
  }
  const requestId = randomUUID();
  const problem = toProblem(coded, requestId);
  const answered = status ?? problem.status;
  const body = JSON.stringify({ ...problem.body, status: answered });
  socket.end(
    `HTTP/1.1 ${answered} ${status === 431 ? 'Request Header Fields Too Large' : problem.body.title}\r\n` +
      `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
  );
  // Not parsed, so no method or route: both labels take one fixed value.
  metrics.requests.inc({ method: 'unparsed', route: 'unmatched', status: answered });
  metrics.rejections.inc({ code: problem.body.code });
  logger.info({ requestId, method: 'unparsed', route: 'unmatched', status: answered, code: problem.body.code, parser: error.code }, 'request');
}
