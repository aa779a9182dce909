// Prometheus metrics of the API: requests by route and status and their latency, grants by state
// and pending past their approval timeout (the read model, at scrape time), decision latency, audit
// chain verifications. Labels are bounded: route templates, never ids, users or reasons.
import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { grantStatuses } from '../common/grant.js';
import type { PolicyEngine } from '../policies/engine.js';
import type { AuditStore } from '../store/index.js';

const DECISION_ROUTE = /^\/v1\/requests\/:id\/(approve|deny|cancel|revoke|extend|credentials)$/;
/** A pending grant this long past its role's approval timeout is stuck (its workflow should have ended it). */
export const OVERDUE_GRACE_SECONDS = 60;
/** At most this many pending grants are read per scrape. */
const PENDING_SCAN_LIMIT = 5000;

export interface ApiMetrics {
  registry: Registry;
  /** Counts one verification of the audit chain. */
  auditVerified(ok: boolean): void;
}

export function registerMetrics(
  app: FastifyInstance,
  { store, engine }: { store: Pick<AuditStore, 'grants'>; engine?: Pick<PolicyEngine, 'roles'> | undefined },
): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'jit_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'jit_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by route and status class',
    labelNames: ['method', 'route', 'status_class'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20],
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
  const timeouts = new Map((engine?.roles() ?? []).map((role) => [role.id, role.approvalTimeoutSeconds]));
  new Gauge({
    name: 'jit_grants_pending_overdue',
    help: `Pending grants older than their role's approval timeout plus ${OVERDUE_GRACE_SECONDS} s, by role`,
    labelNames: ['role'],
    registers: [registry],
    async collect() {
      const overdue = new Map<string, number>([...timeouts.keys()].map((role) => [role, 0]));
      const now = Date.now();
      let cursor: { createdAt: string; id: string } | undefined;
      for (let seen = 0; seen < PENDING_SCAN_LIMIT; ) {
        const page = await store.grants.list({ status: ['pending'], visibleTo: 'all' }, 500, cursor);
        for (const grant of page.items) {
          const timeout = timeouts.get(grant.role.id);
          const age = (now - Date.parse(grant.createdAt)) / 1000;
          if (timeout !== undefined && age > timeout + OVERDUE_GRACE_SECONDS)
            overdue.set(grant.role.id, (overdue.get(grant.role.id) ?? 0) + 1);
        }
        seen += page.items.length;
        const last = page.items.at(-1);
        if (!page.nextCursor || !last) break;
        cursor = { createdAt: last.createdAt, id: last.id };
      }
      for (const [role, n] of overdue) this.set({ role }, n);
    },
  });
  const verifications = new Counter({
    name: 'jit_audit_verifications_total',
    help: 'Verifications of the audit hash chain (GET /v1/audit/verify), by result',
    labelNames: ['result'],
    registers: [registry],
  });
  const intact = new Gauge({
    name: 'jit_audit_chain_intact',
    help: 'Whether the last verification of the audit chain found it intact (1) or broken (0)',
    registers: [registry],
  });
  for (const result of ['intact', 'broken']) verifications.inc({ result }, 0);

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    requests.inc({ method: req.method, route, status: reply.statusCode });
    latency.observe(
      { method: req.method, route, status_class: `${Math.floor(reply.statusCode / 100)}xx` },
      reply.elapsedTime / 1000,
    );
    const decision = DECISION_ROUTE.exec(route)?.[1];
    if (decision) decisions.observe({ decision, status: reply.statusCode }, reply.elapsedTime / 1000);
  });

  app.get('/metrics', { config: { public: true }, schema: { hide: true } }, async (_req, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
  return {
    registry,
    auditVerified(ok) {
      verifications.inc({ result: ok ? 'intact' : 'broken' });
      intact.set(ok ? 1 : 0);
    },
  };
}
