// Prometheus metrics: requests by route and status, grants by state, decision latency.
import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { grantStatuses } from '../common/grant.js';
import type { AuditStore } from '../store/index.js';

const DECISION_ROUTE = /^\/v1\/requests\/:id\/(approve|deny|cancel|revoke|extend|credentials)$/;

export function registerMetrics(
  app: FastifyInstance,
  { store }: { store: Pick<AuditStore, 'grants'> },
): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'jit_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const decisions = new Histogram({
    name: 'jit_decision_duration_seconds',
    help: 'Time to answer a decision on a grant (approve, deny, cancel, revoke, extend, credentials)',
    labelNames: ['decision', 'status'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  new Gauge({
    name: 'jit_grants',
    help: 'Grants by state (the read model, counted at scrape time)',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const counts = await store.grants.countByStatus();
      for (const status of grantStatuses) this.set({ status }, counts[status] ?? 0);
    },
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    requests.inc({ method: req.method, route, status: reply.statusCode });
    const decision = DECISION_ROUTE.exec(route)?.[1];
    if (decision) decisions.observe({ decision, status: reply.statusCode }, reply.elapsedTime / 1000);
  });

  app.get('/metrics', { config: { public: true }, schema: { hide: true } }, async (_req, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
  return registry;
}
