/**
 * Unsigned service routes — liveness, readiness (database answers, schema current, indexes
 * loaded, not shutting down), Prometheus metrics, the OpenAPI document and the offline docs
 * page — and the taxonomy, which any member may read.
 */
import type { Bank } from '../../bank/bank.js';
import { DOCS_CONTENT_SECURITY_POLICY, renderDocsPage } from '../docs-page.js';
import type { ServiceMetrics } from '../metrics.js';
import { defineRoute, type RouteSpec } from '../route.js';
import { HealthSchema, TaxonomySchema } from '../schemas.js';

export interface Readiness {
  /** Named checks; the service is ready when every one is true. */
  checks(): Promise<Record<string, boolean>>;
}

export function serviceRoutes(bank: Bank, metrics: ServiceMetrics, readiness: Readiness, openApi: () => Record<string, unknown>): RouteSpec[] {
  let docsPage: string | undefined;
  return [
    defineRoute({
      method: 'GET',
      path: '/healthz',
      operationId: 'health',
      summary: 'Liveness',
      tag: 'service',
      access: 'public',
      responses: { 200: { description: 'The process answers', schema: HealthSchema } },
      async handle() {
        return { body: { status: 'ok' } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/readyz',
      operationId: 'ready',
      summary: 'Readiness: database open, migrations applied, index loaded',
      tag: 'service',
      access: 'public',
      responses: { 200: { description: 'Ready', schema: HealthSchema }, 503: { description: 'Not ready', schema: HealthSchema } },
      async handle() {
        const checks = await readiness.checks();
        const ready = Object.values(checks).every(Boolean);
        return { status: ready ? 200 : 503, body: { status: ready ? 'ok' : 'unavailable', checks } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/metrics',
      operationId: 'metrics',
      summary: 'Prometheus metrics',
      tag: 'service',
      access: 'public',
      responses: { 200: { description: 'Prometheus text exposition', contentType: 'text/plain; version=0.0.4' } },
      async handle({ res }) {
        res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
        return undefined;
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/openapi.json',
      operationId: 'openApi',
      summary: 'This OpenAPI 3.1 document',
      tag: 'service',
      access: 'public',
      responses: { 200: { description: 'OpenAPI 3.1 document' } },
      async handle() {
        return { body: openApi() };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/docs',
      operationId: 'docs',
      summary: 'API documentation page (offline)',
      tag: 'service',
      access: 'public',
      responses: { 200: { description: 'HTML page', contentType: 'text/html' } },
      async handle({ res }) {
        docsPage ??= renderDocsPage(openApi());
        res.setHeader('Content-Security-Policy', DOCS_CONTENT_SECURITY_POLICY);
        res.type('html').send(docsPage);
        return undefined;
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/taxonomy',
      operationId: 'taxonomy',
      summary: 'Labels a submission may carry',
      tag: 'taxonomy',
      access: 'any',
      responses: { 200: { description: 'Categories and modifiers', schema: TaxonomySchema } },
      async handle() {
        return { body: { labels: bank.listLabels() } };
      },
    }),
  ];
}
