// /v1/requests: start, read, list and decide grants. Reads come from the read model; decisions go
// to the grant workflow through GrantService, signed. Retries with the same Idempotency-Key count once.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { credentialProcessOutput, grantListItem, grantView } from '../../common/grant.js';
import type { GrantService } from '../grant-service.js';
import {
  approveBody,
  createRequestBody,
  emptyBody,
  extendBody,
  grantIdParams,
  idempotencyHeaders,
  listQuery,
  reasonBody,
  reviewBody,
} from '../schemas.js';

/** One update id per (caller, action, key): a retried decision attaches to the first one. */
export const updateIdOf = (req: FastifyRequest, action: string) => {
  const key = req.headers['idempotency-key'];
  return typeof key === 'string' && /^[\w.:-]{1,128}$/.test(key)
    ? { updateId: `${req.principal.sub}:${action}:${key}` }
    : {};
};

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
      const { role, duration, reason, ticket, onBehalfOf } = req.body;
      const key = req.headers['idempotency-key'];
      const { view, created, pending } = await grants.start(
        req.principal,
        {
          role,
          durationSeconds: duration,
          reason,
          ...(ticket ? { ticket } : {}),
          ...(onBehalfOf
            ? {
                onBehalfOf: { sub: onBehalfOf.sub, ...(onBehalfOf.email ? { email: onBehalfOf.email } : {}) },
              }
            : {}),
        },
        { ...(key ? { idempotencyKey: key } : {}) },
      );
      reply.header('location', `/v1/requests/${view.id}`);
      // 201: active; 202: waiting (for approval, or for the broker); 200: an earlier identical request.
      if (!created) return reply.code(200).send(view);
      return reply.code(pending || view.status === 'pending' ? 202 : 201).send(view);
    },
  );

  r.get(
    '/v1/requests',
    {
      schema: {
        tags,
        querystring: listQuery,
        response: {
          200: z.object({ requests: z.array(grantListItem), nextCursor: z.string().optional() }),
        },
      },
    },
    async (req) => {
      const { status, role, requester, requesterKind, review, from, to, limit, cursor } = req.query;
      const page = await grants.list(req.principal, {
        ...(status ? { status } : {}),
        ...(role ? { role } : {}),
        ...(requester ? { requester } : {}),
        ...(requesterKind ? { requesterKind } : {}),
        ...(review === 'me' ? { awaitingMyReview: true } : {}),
        ...(from ? { from: new Date(from).toISOString() } : {}),
        ...(to ? { to: new Date(to).toISOString() } : {}),
        ...(cursor ? { cursor } : {}),
        limit,
      });
      return { requests: page.items, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
    },
  );

  r.get(
    '/v1/requests/:id',
    { schema: { tags, params: grantIdParams, response: { 200: grantView } } },
    async (req) => grants.get(req.principal, req.params.id),
  );

  const decision = { tags, params: grantIdParams, headers: idempotencyHeaders, response: { 200: grantView } };
  r.post('/v1/requests/:id/approve', { schema: { ...decision, body: approveBody } }, async (req) =>
    grants.approve(req.principal, req.params.id, req.body?.comment, updateIdOf(req, 'approve')),
  );
  r.post('/v1/requests/:id/deny', { schema: { ...decision, body: reasonBody } }, async (req) =>
    grants.deny(req.principal, req.params.id, req.body.reason, updateIdOf(req, 'deny')),
  );
  r.post('/v1/requests/:id/cancel', { schema: { ...decision, body: emptyBody } }, async (req) =>
    grants.cancel(req.principal, req.params.id, updateIdOf(req, 'cancel')),
  );
  r.post('/v1/requests/:id/revoke', { schema: { ...decision, body: reasonBody } }, async (req) =>
    grants.revoke(req.principal, req.params.id, req.body.reason, updateIdOf(req, 'revoke')),
  );
  r.post('/v1/requests/:id/extend', { schema: { ...decision, body: extendBody } }, async (req) =>
    grants.extend(
      req.principal,
      req.params.id,
      req.body.duration,
      req.body.reason,
      updateIdOf(req, 'extend'),
    ),
  );

  r.post('/v1/requests/:id/review', { schema: { ...decision, body: reviewBody } }, async (req) =>
    grants.review(
      req.principal,
      req.params.id,
      {
        outcome: req.body.outcome,
        ...(req.body.comment ? { comment: req.body.comment } : {}),
        ...(req.body.revoke ? { revoke: true } : {}),
      },
      updateIdOf(req, 'review'),
    ),
  );
  r.post('/v1/requests/:id/nudge', { schema: { ...decision, body: emptyBody } }, async (req) =>
    grants.nudge(req.principal, req.params.id, updateIdOf(req, 'nudge')),
  );

  r.post(
    '/v1/requests/:id/credentials',
    {
      schema: {
        tags,
        params: grantIdParams,
        headers: idempotencyHeaders,
        body: emptyBody,
        response: { 200: credentialProcessOutput },
      },
    },
    async (req, reply) => {
      reply.header('cache-control', 'no-store');
      return grants.credentials(req.principal, req.params.id, updateIdOf(req, 'credentials'));
    },
  );

  r.post(
    '/v1/requests/:id/console',
    {
      schema: {
        tags,
        params: grantIdParams,
        headers: idempotencyHeaders,
        body: emptyBody,
        response: { 200: z.object({ url: z.string(), expiresAt: z.string() }) },
      },
    },
    async (req, reply) => {
      reply.header('cache-control', 'no-store');
      return grants.console(req.principal, req.params.id, updateIdOf(req, 'console'));
    },
  );
}
