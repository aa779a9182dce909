// What the API adds to its traces and logs about a grant: the HTTP span is named by its route
// (never the raw URL, which holds ids), and every span and log line of a request about a grant
// carries its id, and once answered its role and outcome. Free when tracing is off: there is no span.
import { context, trace } from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';
import type { FastifyInstance } from 'fastify';
import { annotateGrant } from '../platform/telemetry.js';

const GRANT_ID = /^grant-[0-9A-Z]{26}$/;

export function registerTracing(app: FastifyInstance): void {
  app.addHook('onRequest', async (req, reply) => {
    const route = req.routeOptions.url;
    const span = trace.getActiveSpan();
    if (span && route) {
      const rpc = getRPCMetadata(context.active());
      if (rpc?.type === RPCType.HTTP) rpc.route = route;
      span.updateName(`${req.method} ${route}`);
    }
    const id = (req.params as { id?: unknown } | undefined)?.id;
    if (typeof id === 'string' && GRANT_ID.test(id)) {
      // The reply's logger writes the "request completed" line.
      req.log = req.log.child({ grant_id: id });
      reply.log = req.log;
      annotateGrant({ grantId: id }, span);
    }
  });

  // The answer names the grant (a view) or the refusal (an error code); credentials are never read.
  app.addHook('preSerialization', async (req, reply, payload) => {
    const body = payload as {
      id?: unknown;
      status?: unknown;
      role?: { id?: unknown };
      error?: { code?: unknown };
    };
    if (body && typeof body === 'object') {
      if (typeof body.id === 'string' && GRANT_ID.test(body.id) && typeof body.status === 'string') {
        if (!(req.params as { id?: unknown } | undefined)?.id) {
          req.log = req.log.child({ grant_id: body.id });
          reply.log = req.log;
        }
        annotateGrant({
          grantId: body.id,
          role: typeof body.role?.id === 'string' ? body.role.id : undefined,
          outcome: body.status,
        });
      } else if (typeof body.error?.code === 'string') {
        annotateGrant({ outcome: body.error.code });
      }
    }
    return payload;
  });
}
