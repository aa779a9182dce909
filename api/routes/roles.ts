import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { roleView } from '../../common/grant.js';
import type { GrantService } from '../grant-service.js';

/** GET /v1/roles: the roles the caller may request, with their limits. */
export function registerRoleRoutes(app: FastifyInstance, { grants }: { grants: GrantService }): void {
  app
    .withTypeProvider<ZodTypeProvider>()
    .get(
      '/v1/roles',
      { schema: { tags: ['roles'], response: { 200: z.object({ roles: z.array(roleView) }) } } },
      async (req) => ({ roles: grants.requestableRoles(req.principal) }),
    );
}
