/**
 * The route table of the service: every route group with what its handlers need, in the order
 * the app registers them. The app serves this table and the OpenAPI document describes it.
 */
import type { CheckpointPublisher } from '../audit/checkpoint-publisher.js';
import type { MatchCounter } from '../audit/match-counter.js';
import type { Bank } from '../bank/bank.js';
import type { JobService } from '../jobs/job-service.js';
import type { Store } from '../store/store.js';
import type { ServiceMetrics } from './metrics.js';
import type { RouteSpec } from './route.js';
import { adminRoutes } from './routes/admin-routes.js';
import { auditRoutes } from './routes/audit-routes.js';
import { changeRoutes } from './routes/change-routes.js';
import { jobRoutes } from './routes/job-routes.js';
import { matchRoutes } from './routes/match-routes.js';
import { serviceRoutes, type Readiness } from './routes/service-routes.js';
import { signalRoutes } from './routes/signal-routes.js';

export interface RouteDependencies {
  readonly bank: Bank;
  readonly store: Store;
  readonly metrics: ServiceMetrics;
  readonly readiness: Readiness;
  readonly matchCounter: MatchCounter;
  readonly checkpoints: CheckpointPublisher;
  readonly jobs: JobService;
  /** The OpenAPI document that `/openapi.json` and `/docs` serve. */
  readonly openApi: () => Record<string, unknown>;
}

export function routeTable(deps: RouteDependencies): RouteSpec[] {
  const { bank, store, metrics } = deps;
  return [
    ...serviceRoutes(bank, metrics, deps.readiness, deps.openApi),
    ...signalRoutes(bank, metrics),
    ...matchRoutes(bank, metrics, deps.matchCounter),
    ...adminRoutes(store, bank),
    ...auditRoutes(store, deps.checkpoints),
    ...jobRoutes(deps.jobs),
    ...changeRoutes(store),
  ];
}
