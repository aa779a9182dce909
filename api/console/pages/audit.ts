// The auditors' pages (Cedar `audit` action, as for /v1/audit/*): search grants (read model) and
// events (audit trail), export exactly what a search shows, and verify the hash chain.
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { auditEventTypes } from '../../../common/audit-event.js';
import { grantStatuses } from '../../../common/grant.js';
import { type AuditFilter, summaryHeader, summaryLine, summaryOfView } from '../../../store/index.js';
import { ApiError } from '../../errors.js';
import type { ConsoleContext, ConsolePage } from '../context.js';
import { eventSearchQuery, exportFormat, grantSearchQuery, parseForm } from '../forms.js';

const EXPORT_PAGE = 500;

function auditorsOnly(ctx: ConsoleContext) {
  return async (req: FastifyRequest) => {
    if (!ctx.deps.engine.mayAudit(req.principal))
      throw new ApiError('forbidden', 'only auditors may read the audit trail');
  };
}

/** The search's filters as a query string, for links (next page, exports). */
function queryString(values: Record<string, string | string[] | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(key, String(item));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

function download(reply: FastifyReply, name: string, format: 'csv' | 'jsonl', chunks: AsyncIterable<string>) {
  return reply
    .header(
      'content-type',
      format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
    )
    .header('content-disposition', `attachment; filename="${name}.${format}"`)
    .header('cache-control', 'no-store')
    .send(Readable.from(chunks));
}

export const auditPage: ConsolePage = {
  nav: { path: '/audit', label: 'Audit', visible: (principal, ctx) => ctx.deps.engine.mayAudit(principal) },
  register(scope, ctx) {
    const { grants, store, engine } = ctx.deps;
    const preHandler = [ctx.signedIn, auditorsOnly(ctx)];
    const roleIds = () => engine.roles().map((r) => r.id);

    const grantQuery = (req: FastifyRequest) => {
      const q = parseForm(grantSearchQuery, req.query);
      const list = {
        ...(q.status ? { status: q.status } : {}),
        ...(q.role ? { role: q.role } : {}),
        ...(q.requester ? { requester: q.requester } : {}),
        ...(q.from ? { from: new Date(q.from).toISOString() } : {}),
        ...(q.to ? { to: new Date(q.to).toISOString() } : {}),
      };
      const filters = { from: q.from, to: q.to, requester: q.requester, role: q.role, status: q.status };
      return { q, list, filters };
    };

    scope.get('/audit', { preHandler }, async (req, reply) => {
      const { q, list, filters } = grantQuery(req);
      const version = await store.grants.lastChange();
      const page = await grants.list(req.principal, {
        ...list,
        ...(q.cursor ? { cursor: q.cursor } : {}),
        limit: 50,
      });
      return ctx.render(req, reply, 'audit-grants', {
        title: 'Audit: grants',
        grants: page.items,
        filters,
        roles: roleIds(),
        statuses: grantStatuses,
        nextLink: page.nextCursor
          ? `/audit${queryString({ ...filters, cursor: page.nextCursor })}`
          : undefined,
        exportQuery: queryString(filters),
        live: { url: '/live', version },
      });
    });

    // Grant summaries of exactly the grants the search shows (same filter, same read model).
    scope.get<{ Params: { format: string } }>('/audit/grants.:format', { preHandler }, async (req, reply) => {
      const format = parseForm(exportFormat, req.params.format);
      const { list } = grantQuery(req);
      const principal = req.principal;
      async function* lines() {
        yield summaryHeader(format);
        let cursor: string | undefined;
        do {
          const page = await grants.listViews(principal, {
            ...list,
            ...(cursor ? { cursor } : {}),
            limit: EXPORT_PAGE,
          });
          let chunk = '';
          for (const view of page.items) chunk += summaryLine(summaryOfView(view), format);
          if (chunk) yield chunk;
          cursor = page.nextCursor;
        } while (cursor);
      }
      return download(reply, 'jit-grants', format, lines());
    });

    const eventFilter = (req: FastifyRequest) => {
      const q = parseForm(eventSearchQuery, req.query);
      const filter: AuditFilter = {
        ...(q.from ? { from: new Date(q.from) } : {}),
        ...(q.to ? { to: new Date(q.to) } : {}),
        ...(q.requester ? { requester: q.requester } : {}),
        ...(q.role ? { roleId: q.role } : {}),
        ...(q.grant ? { grantId: q.grant } : {}),
        ...(q.type ? { types: q.type } : {}),
      };
      const filters = {
        from: q.from,
        to: q.to,
        requester: q.requester,
        role: q.role,
        type: q.type,
        grant: q.grant,
      };
      return { q, filter, filters };
    };

    scope.get('/audit/events', { preHandler }, async (req, reply) => {
      const { q, filter, filters } = eventFilter(req);
      const version = await store.grants.lastChange();
      const page = await store.searchEvents(filter, 100, q.before);
      return ctx.render(req, reply, 'audit-events', {
        title: 'Audit: events',
        events: page.events,
        filters,
        roles: roleIds(),
        types: auditEventTypes,
        nextLink: page.nextBefore
          ? `/audit/events${queryString({ ...filters, before: page.nextBefore })}`
          : undefined,
        exportQuery: queryString(filters),
        live: { url: '/live', version },
      });
    });

    // The events the search shows, in chain order, with their hashes: the store's own export.
    scope.get<{ Params: { format: string } }>('/audit/events.:format', { preHandler }, async (req, reply) => {
      const format = parseForm(exportFormat, req.params.format);
      const { filter } = eventFilter(req);
      return download(reply, 'jit-audit-events', format, store.exportEvents(filter, format));
    });

    scope.get<{ Querystring: { run?: string } }>('/audit/verify', { preHandler }, async (req, reply) => {
      const run = req.query.run === '1';
      const result = run ? await store.verify() : undefined;
      if (result && !result.ok)
        req.log.warn({ firstBroken: result.firstBroken }, 'audit chain verification failed');
      return ctx.render(req, reply, 'audit-verify', {
        title: 'Audit: verify the chain',
        result,
        checkedAt: new Date().toISOString(),
      });
    });
  },
};
