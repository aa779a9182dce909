import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { GrantService } from '../grant-service.js';
import {
  approveBody,
  createRequestBody,
  credentialProcessOutput,
  emptyBody,
  extendBody,
  grantIdParams,
  grantSummary,
  grantView,
  listQuery,
  reasonBody,
} from '../schemas.js';

/** Retries of a decision carry the same key, so the workflow counts them once. */
const updateIdOf = (req: FastifyRequest) => {
  const key = req.headers['idempotency-key'];
  return typeof key === 'string' && /^[\w.:-]{1,128}$/.test(key) ? `${req.principal.sub}:${key}` : undefined;
};

const idempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[\w.:-]{1,128}$/)
    .optional(),
});

export function registerRequestRoutes(app: FastifyInstance, { grants }: { grants: GrantService }): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['requests'];

  r.post(
    '/v1/requests',
    {
      schema: {
        tags,
        body: createRequestBody,
        headers: idempotencyHeaders,
        response: { 200: grantView, 201: grantView, 202: grantView },
      },
    },
    async (req, reply) => {
      const { role, duration, reason, ticket } = req.body;
      const { view, created } = await grants.start(
        req.principal,
        { role, durationSeconds: duration, reason, ...(ticket ? { ticket } : {}) },
        req.headers['idempotency-key'],
      );
      // 201: already active; 202: waiting for approval; 200: an earlier identical request.
      return reply.code(created ? (view.status === 'pending' ? 202 : 201) : 200).send(view);
    },
  );

  r.get(
    '/v1/requests',
    {
      schema: {
        tags,
        querystring: listQuery,
        response: { 200: z.object({ requests: z.array(grantSummary) }) },
      },
    },
    async (req) => ({ requests: await grants.list(req.principal, req.query) }),
  );

  r.get(
    '/v1/requests/:id',
    { schema: { tags, params: grantIdParams, response: { 200: grantView } } },
    async (req) => (await grants.get(req.principal, req.params.id)).view,
  );

  const decision = { tags, params: grantIdParams, headers: idempotencyHeaders, response: { 200: grantView } };
  r.post('/v1/requests/:id/approve', { schema: { ...decision, body: approveBody } }, async (req) =>
    grants.approve(req.principal, req.params.id, req.body?.comment, updateIdOf(req)),
  );
  r.post('/v1/requests/:id/deny', { schema: { ...decision, body: reasonBody } }, async (req) =>
    grants.deny(req.principal, req.params.id, req.body.reason, updateIdOf(req)),
  );
  r.post('/v1/requests/:id/cancel', { schema: { ...decision, body: emptyBody } }, async (req) =>
    grants.cancel(req.principal, req.params.id, updateIdOf(req)),
  );
  r.post('/v1/requests/:id/revoke', { schema: { ...decision, body: reasonBody } }, async (req) =>
    grants.revoke(req.principal, req.params.id, req.body.reason, updateIdOf(req)),
  );
  r.post('/v1/requests/:id/extend', { schema: { ...decision, body: extendBody } }, async (req) =>
    grants.extend(req.principal, req.params.id, req.body.duration, req.body.reason, updateIdOf(req)),
  );

  r.post(
    '/v1/requests/:id/credentials',
    { schema: { tags, params: grantIdParams, body: emptyBody, response: { 200: credentialProcessOutput } } },
    async (req, reply) => {
      reply.header('cache-control', 'no-store');
      return grants.credentials(req.principal, req.params.id);
    },
  );

  r.post(
    '/v1/requests/:id/console',
    {
      schema: {
        tags,
        params: grantIdParams,
        body: emptyBody,
        response: { 200: z.object({ url: z.string(), expiresAt: z.string() }) },
      },
    },
    async (req, reply) => {
      reply.header('cache-control', 'no-store');
      return grants.console(req.principal, req.params.id);
    },
  );
}
