import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { ApiError, errorBody } from './errors.js';
import { type ReadinessCheck, registerHealthRoutes } from './routes/health.js';

export interface ServerDeps {
  logger: FastifyBaseLogger;
  readiness: ReadinessCheck[];
}

export function buildServer(deps: ServerDeps) {
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: 64 * 1024,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    disableRequestLogging: false,
  });

  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send(errorBody('not_found', `no route ${req.method} ${req.url.split('?')[0]}`, req.id));
  });

  // Never a stack trace on the wire: known errors keep their code, the rest become `internal`.
  app.setErrorHandler((err, req, reply) => {
    if (err instanceof ApiError) return reply.code(err.status).send(errorBody(err.code, err.message, req.id));
    const { statusCode, message } = err as { statusCode?: unknown; message?: string };
    const status = typeof statusCode === 'number' ? statusCode : 500;
    if (status === 413)
      return reply.code(413).send(errorBody('payload_too_large', 'request body too large', req.id));
    if (status >= 400 && status < 500)
      return reply.code(status).send(errorBody('bad_request', message ?? 'bad request', req.id));
    req.log.error({ err }, 'unhandled error');
    return reply.code(500).send(errorBody('internal', 'internal error', req.id));
  });

  registerHealthRoutes(app, deps.readiness);
  return app;
}
