import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import type { PayloadCodec } from '@temporalio/common';
import Fastify, { type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import type { PolicyEngine } from '../policies/engine.js';
import type { AuditStore } from '../store/index.js';
import { type Authenticator, registerAuth } from './auth.js';
import { type ConsoleSettings, registerConsole } from './console/index.js';
import { ApiError, errorBody, retryAfterSeconds } from './errors.js';
import type { GrantService } from './grant-service.js';
import { registerMetrics } from './metrics.js';
import { registerAuditRoutes } from './routes/audit.js';
import { registerCodecRoutes } from './routes/codec.js';
import { type ReadinessCheck, registerHealthRoutes } from './routes/health.js';
import { registerPrincipalRoutes } from './routes/principals.js';
import { registerRequestRoutes } from './routes/requests.js';
import { registerRoleRoutes } from './routes/roles.js';
import { errorResponse } from './schemas.js';
import { registerSlackApp, type SlackAppDeps } from './slack/index.js';
import { registerTracing } from './tracing.js';

export interface ServerDeps {
  logger: FastifyBaseLogger;
  authenticator: Authenticator;
  engine: PolicyEngine;
  grants: GrantService;
  store: AuditStore;
  readiness: ReadinessCheck[];
  /** The codec server for the Temporal UI and CLI (decode only). */
  codec?: { codec: PayloadCodec; corsOrigins: string[] };
  /** Reviewers' buttons at POST /slack/events; absent when Slack is off. */
  slack?: SlackAppDeps;
  /** The web console at the root URL (api/console/); absent when it is off. */
  console?: ConsoleSettings;
}

export async function buildServer(deps: ServerDeps) {
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: 64 * 1024,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    routerOptions: { maxParamLength: 200 },
    // Errors the router raises before any route or error handler (an over-long path parameter, a
    // malformed URL) still answer in the API's shape: too long to be any id names nothing.
    frameworkErrors: (err, req, routerReply) => {
      const reply = (routerReply as FastifyReply).header('x-request-id', req.id);
      if (err.code === 'FST_ERR_MAX_PARAM_LENGTH')
        return reply.code(404).send(errorBody('not_found', 'no such resource', req.id));
      if (err.code === 'FST_ERR_BAD_URL')
        return reply.code(400).send(errorBody('bad_request', 'malformed URL', req.id));
      req.log.error({ err }, 'router error');
      return reply.code(500).send(errorBody('internal', 'internal error', req.id));
    },
    // On close: idle keep-alive connections go at once, in-flight requests finish (api/main.ts).
    forceCloseConnections: 'idle',
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });

  // Every route documents every error it can answer, with the one error shape.
  const errorStatuses = [400, 401, 403, 404, 409, 413, 415, 429, 500, 502, 503];
  // Which methods each path answers, so another method on it is a 405 naming them, not a 404.
  const routeMethods: { pattern: RegExp; methods: Set<string> }[] = [];
  app.addHook('onRoute', (route) => {
    const source = `^${route.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[^/]+/g, '[^/]+')}/?$`;
    const pattern = new RegExp(source);
    let entry = routeMethods.find((r) => r.pattern.source === pattern.source);
    if (!entry) {
      entry = { pattern, methods: new Set() };
      routeMethods.push(entry);
    }
    for (const method of [route.method].flat()) entry.methods.add(method);
  });
  const methodNotAllowed = (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?')[0] ?? '';
    const allowed = new Set(routeMethods.filter((r) => r.pattern.test(path)).flatMap((r) => [...r.methods]));
    if (allowed.size === 0 || allowed.has(req.method)) return false;
    reply
      .code(405)
      .header('allow', [...allowed].sort().join(', '))
      .send(errorBody('method_not_allowed', `${req.method} is not allowed on ${path}`, req.id));
    return true;
  };
  app.addHook('onRoute', (route) => {
    const schema = route.schema as { response?: Record<number, unknown>; hide?: boolean } | undefined;
    if (!schema || schema.hide) return;
    schema.response ??= {};
    for (const status of errorStatuses) schema.response[status] ??= errorResponse;
  });

  let notFoundPage: string | undefined;
  app.setNotFoundHandler((req, reply) => {
    if (methodNotAllowed(req, reply)) return;
    // A browser lost in the console gets a page; API clients get the error shape.
    const browser = req.method === 'GET' && (req.headers.accept ?? '').includes('text/html');
    if (notFoundPage && browser && !req.url.startsWith('/v1/')) {
      return reply
        .code(404)
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .header(
          'content-security-policy',
          "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        )
        .send(notFoundPage);
    }
    reply.code(404).send(errorBody('not_found', `no route ${req.method} ${req.url.split('?')[0]}`, req.id));
  });

  // Never a stack trace on the wire: known errors keep their code, the rest become `internal`.
  app.setErrorHandler((err, req, reply) => {
    if (err instanceof ApiError) {
      const retry = retryAfterSeconds[err.code];
      if (retry) reply.header('retry-after', String(retry));
      if (err.status >= 500) req.log.error({ code: err.code, err: err.message }, 'request failed');
      return reply.code(err.status).send(errorBody(err.code, err.message, req.id));
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const problems = err.validation.map(
        (v) => `${v.instancePath || err.validationContext || 'request'}: ${v.message}`,
      );
      return reply.code(400).send(errorBody('validation_failed', problems.join('; '), req.id));
    }
    const { statusCode, code } = err as { statusCode?: unknown; code?: string };
    const status = typeof statusCode === 'number' ? statusCode : 500;
    if (status === 413)
      return reply.code(413).send(errorBody('payload_too_large', 'request body too large', req.id));
    if (status === 415) {
      return reply.code(415).send(errorBody('unsupported_media_type', 'send application/json', req.id));
    }
    // A method the HTTP server accepts but no route knows (QUERY, for one) on a known path.
    if (status === 400 && methodNotAllowed(req, reply)) return;
    if (status >= 400 && status < 500) {
      const message =
        code === 'FST_ERR_CTP_INVALID_JSON_BODY' || code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
          ? 'the body is not valid JSON'
          : 'bad request';
      return reply.code(status).send(errorBody('bad_request', message, req.id));
    }
    req.log.error({ err }, 'unhandled error');
    return reply.code(500).send(errorBody('internal', 'internal error', req.id));
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'jit-broker API', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());

  registerAuth(app, deps.authenticator);
  const metrics = registerMetrics(app, { store: deps.store, engine: deps.engine });
  registerTracing(app);
  registerHealthRoutes(app, deps.readiness);
  registerRoleRoutes(app, deps);
  registerRequestRoutes(app, deps);
  registerPrincipalRoutes(app, deps);
  registerAuditRoutes(app, { ...deps, onVerify: metrics.auditVerified });
  if (deps.codec) await registerCodecRoutes(app, { engine: deps.engine, ...deps.codec });
  if (deps.slack) registerSlackApp(app, { ...deps.slack, grants: deps.grants, log: deps.logger });
  if (deps.console) {
    ({ notFoundPage } = await registerConsole(app, {
      settings: deps.console,
      grants: deps.grants,
      engine: deps.engine,
      authenticator: deps.authenticator,
      store: deps.store,
    }));
  }
  return app;
}
