import type { FastifyInstance } from 'fastify';
import { errorBody } from '../errors.js';

export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
}

/** Liveness says the process serves; readiness that every dependency answers. */
export function registerHealthRoutes(app: FastifyInstance, checks: ReadinessCheck[]): void {
  app.get('/healthz', { config: { public: true }, schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { config: { public: true }, schema: { hide: true } }, async (req, reply) => {
    const results = await Promise.all(
      checks.map(async ({ name, check }) => {
        try {
          await check();
          return [name, 'ok'] as const;
        } catch {
          return [name, 'unreachable'] as const;
        }
      }),
    );
    const failing = results.filter(([, status]) => status !== 'ok').map(([name]) => name);
    if (failing.length > 0) {
      return reply
        .code(503)
        .send(errorBody('not_ready', `not ready: ${failing.join(', ')} unreachable`, req.id));
    }
    return { status: 'ready', checks: Object.fromEntries(results) };
  });
}
