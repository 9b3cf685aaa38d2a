/**
 * Prometheus metrics of one service instance (prom-client, its own registry so that several
 * instances can live in one process): requests by route and status, latency by route, index
 * size and memory, match queries and hits, submissions by result, rejections by code, and batch
 * jobs by status with the lines and queries they processed.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface ServiceMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly latency: Histogram<'method' | 'route'>;
  readonly matchQueries: Counter<'type'>;
  readonly matches: Counter<'type'>;
  readonly submissions: Counter<'result'>;
  readonly rejections: Counter<'code'>;
  readonly jobQueries: Counter<'type'>;
  readonly jobLines: Counter<'result'>;
}

export interface IndexStats {
  sizes(): Record<string, number>;
  memoryBytes(): number;
}

/** Job counts by status, read when metrics are scraped. */
export type JobCounts = () => Record<string, number>;

export function createMetrics(index: IndexStats, jobs?: JobCounts): ServiceMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'signalbank_' });
  const metrics: ServiceMetrics = {
    registry,
    requests: new Counter({
      name: 'signalbank_http_requests_total',
      help: 'HTTP requests answered, by method, route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'signalbank_http_request_duration_seconds',
      help: 'Time to answer HTTP requests, by method and route',
      labelNames: ['method', 'route'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    matchQueries: new Counter({ name: 'signalbank_match_queries_total', help: 'Match queries answered, by signal type', labelNames: ['type'], registers: [registry] }),
    matches: new Counter({ name: 'signalbank_matches_total', help: 'Matches returned, by signal type', labelNames: ['type'], registers: [registry] }),
    submissions: new Counter({
      name: 'signalbank_submissions_total',
      help: 'Submitted items, by result (created, added, updated, unchanged, rejected)',
      labelNames: ['result'],
      registers: [registry],
    }),
    rejections: new Counter({
      name: 'signalbank_rejections_total',
      help: 'Refused requests and refused items, by error code',
      labelNames: ['code'],
      registers: [registry],
    }),
    jobQueries: new Counter({ name: 'signalbank_job_queries_total', help: 'Job queries matched, by signal type', labelNames: ['type'], registers: [registry] }),
    jobLines: new Counter({
      name: 'signalbank_job_lines_total',
      help: 'Job lines received, by result (query, refused)',
      labelNames: ['result'],
      registers: [registry],
    }),
  };
  new Gauge({
    name: 'signalbank_index_size',
    help: 'Live signals in the in-memory index, by signal type',
    labelNames: ['type'],
    registers: [registry],
    collect() {
      for (const [type, size] of Object.entries(index.sizes())) this.set({ type }, size);
    },
  });
  new Gauge({
    name: 'signalbank_index_memory_bytes',
    help: 'Bytes held by the in-memory indexes, hashes included',
    registers: [registry],
    collect() {
      this.set(index.memoryBytes());
    },
  });
  if (jobs) {
    new Gauge({
      name: 'signalbank_jobs',
      help: 'Batch matching jobs, by status (queued, running, done, failed, cancelled)',
      labelNames: ['status'],
      registers: [registry],
      collect() {
        const counts = jobs();
        for (const status of ['queued', 'running', 'done', 'failed', 'cancelled']) this.set({ status }, counts[status] ?? 0);
      },
    });
  }
  return metrics;
}
