// The web console (README, "Web console"), served by the API at its root URL: one origin for both.
// A backend for frontend: sign-in by OIDC code flow with PKCE, tokens kept server-side in the audit
// store's database, the browser holding an HttpOnly session cookie only. Every page reads through
// the same GrantService and read model as the JSON routes, and every form posts a CSRF token.
import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import fastifyHelmet from '@fastify/helmet';
import fastifySession from '@fastify/session';
import fastifyStatic from '@fastify/static';
import fastifyView from '@fastify/view';
import { Eta } from 'eta';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { ApiError } from '../errors.js';
import { type ConsoleContext, createContext } from './context.js';
import type { ConsoleDeps } from './options.js';
import { consolePages } from './pages/index.js';
import { contentSecurityPolicy, refuseCrossOrigin } from './security.js';
import { cookieSecrets, databaseSessionStore, SessionSealer } from './session.js';
import { ConsoleOidc } from './sign-in.js';
import { viewHelpers } from './view-model.js';

export type { ConsoleDeps, ConsoleSettings } from './options.js';
export { consoleSettings } from './options.js';

const viewsDir = fileURLToPath(new URL('./views/', import.meta.url));
const assetsDir = fileURLToPath(new URL('./assets/', import.meta.url));

/** Console routes are not API routes: no bearer token (the session is checked), not in OpenAPI. */
function markConsoleRoute(route: RouteOptions): void {
  route.config = { ...(route.config as object), public: true };
  route.schema = { ...route.schema, hide: true };
}

/** Registers the console; returns the page the server's 404 handler shows browsers. */
export async function registerConsole(
  app: FastifyInstance,
  deps: ConsoleDeps,
): Promise<{ notFoundPage: string }> {
  const { settings } = deps;
  const secure = new URL(settings.publicUrl).protocol === 'https:';
  // __Host-: only this origin, only over https, no Domain; plain http is the local stack.
  const cookieName = secure ? '__Host-jit_console' : 'jit_console';
  const helmet = {
    contentSecurityPolicy: { useDefaults: false, directives: contentSecurityPolicy(settings) },
    hsts: secure ? { maxAge: 31_536_000 } : false,
    referrerPolicy: { policy: 'same-origin' as const },
  };

  // Static assets, served locally (no CDN): no session lookup for them.
  await app.register(async (assets) => {
    assets.addHook('onRoute', markConsoleRoute);
    await assets.register(fastifyHelmet, helmet);
    await assets.register(fastifyStatic, { root: assetsDir, prefix: '/assets/', maxAge: '1h', index: false });
  });

  await app.register(async (scope) => {
    scope.addHook('onRoute', markConsoleRoute);
    await scope.register(fastifyHelmet, helmet);
    await scope.register(fastifyCookie);
    await scope.register(fastifySession, {
      secret: cookieSecrets(settings.sessionKeys),
      cookieName,
      cookie: { path: '/', httpOnly: true, sameSite: 'lax', secure },
      store: databaseSessionStore(deps.store.consoleSessions, new SessionSealer(settings.sessionKeys)),
      saveUninitialized: false,
      rolling: false,
    });
    await scope.register(fastifyCsrf, { sessionPlugin: '@fastify/session' });
    await scope.register(fastifyFormbody, { bodyLimit: 16 * 1024 });
    await scope.register(fastifyView, {
      engine: { eta: new Eta({ autoEscape: true, autoTrim: false }) },
      templates: viewsDir,
      production: process.env.NODE_ENV !== 'development',
    });
    scope.addHook('onRequest', refuseCrossOrigin(settings.publicUrl));

    const oidc = new ConsoleOidc(settings);
    const ctx: ConsoleContext = createContext(deps, oidc, consolePages, cookieName);
    scope.setErrorHandler(consoleErrorHandler(ctx));
    for (const page of consolePages) page.register(scope, ctx);
  });
  // Unknown paths are answered outside the console's scope (no session there): a page for everyone.
  const notFoundPage = await new Eta({ views: viewsDir }).renderAsync('/error', {
    title: 'Not found',
    heading: 'Not found',
    message: "There is no page here. Check the address, or start from the console's home.",
    code: 'not_found',
    nav: [],
    fmt: viewHelpers,
  });
  return { notFoundPage };
}

function consoleErrorHandler(ctx: ConsoleContext) {
  return async (err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof ApiError) {
      if (err.status >= 500) req.log.error({ code: err.code, err: err.message }, 'console request failed');
      return ctx.renderError(req, reply, err);
    }
    const { statusCode, code } = err as { statusCode?: number; code?: string };
    if (code === 'FST_CSRF_INVALID_TOKEN' || code === 'FST_CSRF_MISSING_SECRET') {
      req.log.warn({ code }, 'console form refused: CSRF token');
      return ctx.render(
        req,
        reply,
        'error',
        {
          title: 'Form expired',
          heading: 'This form can no longer be sent',
          message:
            'It did not come from this console session (or it has expired). Nothing was changed. Reload the page and try again.',
          code: 'csrf_invalid',
          requestId: req.id,
        },
        403,
      );
    }
    if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
      const apiCode =
        statusCode === 413 ? 'payload_too_large' : statusCode === 404 ? 'not_found' : 'bad_request';
      return ctx.renderError(req, reply, new ApiError(apiCode, 'bad request'));
    }
    req.log.error({ err }, 'console request failed');
    return ctx.renderError(req, reply, new ApiError('internal', 'internal error'));
  };
}
