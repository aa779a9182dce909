import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { roleView } from '../../common/grant.js';
import type { PolicyEngine } from '../../policies/engine.js';

/** GET /v1/roles: the roles the caller may request, with their limits. */
export function registerRoleRoutes(app: FastifyInstance, { engine }: { engine: PolicyEngine }): void {
  app
    .withTypeProvider<ZodTypeProvider>()
    .get(
      '/v1/roles',
      { schema: { tags: ['roles'], response: { 200: z.object({ roles: z.array(roleView) }) } } },
      async (req) => ({
        roles: engine.requestableRoles(req.principal).map((r) => ({
          id: r.id,
          description: r.description,
          arn: r.arn,
          account: r.account,
          maxDurationSeconds: r.maxDurationSeconds,
          maxTotalDurationSeconds: r.maxTotalDurationSeconds,
          approvalsRequired: r.approvalsRequired,
          autoApproveMaxSeconds: r.autoApproveMaxSeconds,
          breakGlass: r.breakGlass,
          ...(r.ticketPattern ? { ticketPattern: r.ticketPattern } : {}),
        })),
      }),
    );
}
