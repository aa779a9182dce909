import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { auditEventTypes } from '../../common/audit-event.js';
import type { PolicyEngine } from '../../policies/engine.js';
import type { AuditStore } from '../../store/index.js';
import { ApiError } from '../errors.js';

const exportQuery = z.strictObject({
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  format: z.enum(['csv', 'jsonl']).default('jsonl'),
  requester: z.string().max(256).optional(),
  role: z.string().max(64).optional(),
  grant: z.string().max(64).optional(),
  type: z
    .string()
    .transform((v) => v.split(','))
    .pipe(z.array(z.enum(auditEventTypes)))
    .optional(),
  /** One row per grant instead of one per event. */
  grants: z.stringbool().default(false),
});

const verifyResult = z.object({
  ok: z.boolean(),
  rowsChecked: z.number(),
  firstBroken: z.object({ position: z.number(), eventId: z.string(), problem: z.string() }).optional(),
  /** The last row's hash: kept elsewhere, it also catches a truncated tail. */
  head: z.object({ position: z.number(), hash: z.string() }).optional(),
});

/** Audit trail export and verification: auditors only (Cedar `audit` action). */
export function registerAuditRoutes(
  app: FastifyInstance,
  deps: { engine: PolicyEngine; store: AuditStore; onVerify?: (ok: boolean) => void },
): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const auditorsOnly = async (req: FastifyRequest) => {
    if (!deps.engine.mayAudit(req.principal))
      throw new ApiError('forbidden', 'only auditors may read the audit trail');
  };

  r.get(
    '/v1/audit/events',
    {
      schema: {
        tags: ['audit'],
        querystring: exportQuery,
        // A stream, not a JSON object: one CSV or JSON Lines document as `format` asks.
        response: {
          200: {
            description: 'the matching events (or grant summaries), streamed',
            content: {
              'text/csv': { schema: z.string() },
              'application/x-ndjson': { schema: z.string() },
            },
          },
        },
      },
      preHandler: auditorsOnly,
    },
    async (req, reply) => {
      const q = req.query;
      const filter = {
        ...(q.from ? { from: new Date(q.from) } : {}),
        ...(q.to ? { to: new Date(q.to) } : {}),
        ...(q.requester ? { requester: q.requester } : {}),
        ...(q.role ? { roleId: q.role } : {}),
        ...(q.grant ? { grantId: q.grant } : {}),
        ...(q.type ? { types: q.type } : {}),
      };
      const chunks = q.grants
        ? deps.store.exportGrantSummaries(filter, q.format)
        : deps.store.exportEvents(filter, q.format);
      const name = `jit-audit-${q.grants ? 'grants' : 'events'}.${q.format}`;
      reply
        .header(
          'content-type',
          q.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
        )
        .header('content-disposition', `attachment; filename="${name}"`)
        .header('cache-control', 'no-store');
      // Streamed with backpressure: the server holds one page of rows at a time.
      // The declared 200 is text; Fastify sends a stream as is, without the serializer.
      return reply.send(Readable.from(chunks) as unknown as string);
    },
  );

  r.get(
    '/v1/audit/verify',
    { schema: { tags: ['audit'], response: { 200: verifyResult } }, preHandler: auditorsOnly },
    async () => {
      const result = await deps.store.verify();
      deps.onVerify?.(result.ok);
      return result;
    },
  );
}
