// /v1/principals/{sub}: the kill switch. One call takes everything a principal holds: its active
// grants revoked, its pending ones cancelled, each by a signed decision, after one audit event for
// the kill itself. Who may is Cedar's `revokeAll` (shipped: auditors). What a principal holds or
// held is GET /v1/requests?requester={sub} (auditors see every grant).
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { revokeAllResult } from '../../common/grant.js';
import type { GrantService } from '../grant-service.js';
import { principalParams, reasonBody } from '../schemas.js';

export function registerPrincipalRoutes(app: FastifyInstance, { grants }: { grants: GrantService }): void {
  app.withTypeProvider<ZodTypeProvider>().post(
    '/v1/principals/:sub/revoke-all',
    {
      schema: {
        tags: ['principals'],
        params: principalParams,
        body: reasonBody,
        response: { 200: revokeAllResult },
      },
    },
    async (req) => grants.revokeAll(req.principal, req.params.sub, req.body.reason),
  );
}
