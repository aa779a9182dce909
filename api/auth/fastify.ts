// Every route needs a principal unless its config says `public: true`.
import type { FastifyInstance } from 'fastify';
import type { Principal } from '../../common/grant.js';
import { errorBody } from '../errors.js';
import type { Authenticator } from './authenticator.js';
import { AuthError, WorkloadNotMappedError, wwwAuthenticate } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller; not set on public routes. */
    principal: Principal;
  }
  interface FastifyContextConfig {
    /** Answers without a token: health, readiness, metrics, the OpenAPI document. */
    public?: boolean;
  }
}

export function registerAuth(app: FastifyInstance, authenticator: Authenticator): void {
  app.decorateRequest('principal', null as unknown as Principal);
  // onRequest: a request without a valid token is refused before its body is even read.
  app.addHook('onRequest', async (req, reply) => {
    // Unknown paths get their 404 without a token; the OpenAPI document lists the routes anyway.
    // CORS preflights carry no credentials by design and run no handler of ours.
    if (req.is404 || req.routeOptions.config.public || req.method === 'OPTIONS') return;
    try {
      req.principal = await authenticator.authenticate(req.headers.authorization);
    } catch (err) {
      if (err instanceof WorkloadNotMappedError) {
        req.log.warn(
          { issuer: err.issuer, attributes: err.attributes },
          'workload token maps to no workload',
        );
        return reply.code(403).send(errorBody('workload_not_mapped', err.message, req.id));
      }
      if (!(err instanceof AuthError)) throw err;
      // An unreachable issuer is an outage for every caller, not one caller's bad token.
      const level = err.reason === 'issuer_unreachable' ? 'error' : 'warn';
      req.log[level]({ reason: err.reason, detail: err.detail }, 'authentication failed');
      return reply
        .code(401)
        .header('www-authenticate', wwwAuthenticate(err))
        .send(errorBody(err.code, err.message, req.id));
    }
  });
}
