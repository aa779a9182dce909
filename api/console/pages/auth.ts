// Sign-in and sign-out: the OIDC code flow with PKCE against the configured issuer, and local plus
// RP-initiated sign-out. The session id changes at sign-in, so a session planted before it is useless.
import { ApiError } from '../../errors.js';
import type { ConsolePage } from '../context.js';
import { parseForm, signInQuery, signOutForm } from '../forms.js';
import { CALLBACK_PATH, SIGNED_OUT_PATH, SignInError } from '../sign-in.js';

// A sign-in must come back within this long.
const SIGN_IN_WINDOW_MS = 10 * 60_000;

export const authPages: ConsolePage = {
  register(scope, ctx) {
    const { settings } = ctx.deps;
    const publicUrl = new URL(settings.publicUrl);

    scope.get('/auth/login', async (req, reply) => {
      const query = signInQuery.safeParse(req.query);
      const returnTo = (query.success && query.data.returnTo) || '/';
      // The session cookie must be set on the console's own origin, where the issuer sends people back.
      if (req.host !== publicUrl.host) {
        return reply.redirect(
          new URL(`/auth/login?returnTo=${encodeURIComponent(returnTo)}`, publicUrl).href,
          303,
        );
      }
      const user = req.session.user;
      if (user && user.sessionEndsAt > Date.now()) return reply.redirect(returnTo, 303);
      let started: Awaited<ReturnType<typeof ctx.oidc.start>>;
      try {
        started = await ctx.oidc.start(returnTo);
      } catch (err) {
        req.log.error({ err: (err as Error).message }, 'console sign-in could not start');
        throw new ApiError('not_ready', 'the identity provider cannot be reached');
      }
      req.session.signIn = started.pending;
      req.session.cookie.expires = new Date(Date.now() + SIGN_IN_WINDOW_MS);
      return reply.redirect(started.url.href, 303);
    });

    // warn: the request log line would carry the authorization code and state in its URL.
    scope.get(CALLBACK_PATH, { logLevel: 'warn' }, async (req, reply) => {
      const pending = req.session.signIn;
      const url = new URL(req.url, publicUrl);
      const failed = (message: string, status: number) =>
        ctx.render(
          req,
          reply,
          'error',
          {
            title: 'Sign-in failed',
            heading: 'Sign-in failed',
            message,
            code: 'sign_in_failed',
            signIn: true,
          },
          status,
        );
      if (!pending) {
        return failed('This sign-in has expired or was started in another browser. Sign in again.', 400);
      }
      req.session.signIn = undefined;
      const error = url.searchParams.get('error');
      if (error) {
        scope.log.info({ reqId: req.id, error }, 'console sign-in refused by the issuer');
        const description = url.searchParams.get('error_description');
        return failed(
          `The identity provider did not sign you in (${error}${description ? `: ${description}` : ''}).`,
          401,
        );
      }
      let user: Awaited<ReturnType<typeof ctx.oidc.finish>>;
      try {
        user = await ctx.oidc.finish(url, pending);
      } catch (err) {
        if (!(err instanceof SignInError)) throw err;
        scope.log.warn({ reqId: req.id, err: err.message }, 'console sign-in failed');
        return failed('The answer from the identity provider could not be checked. Sign in again.', 400);
      }
      // A new session id at sign-in: an id planted beforehand (session fixation) signs no one in.
      await req.session.regenerate();
      req.session.user = user;
      req.session.cookie.expires = new Date(user.sessionEndsAt);
      scope.log.info({ reqId: req.id, sub: user.sub }, 'console sign-in');
      return reply.redirect(pending.returnTo, 303);
    });

    scope.post('/auth/logout', { preHandler: scope.csrfProtection }, async (req, reply) => {
      parseForm(signOutForm, req.body);
      const user = req.session.user;
      await req.session.destroy();
      reply.clearCookie(ctx.cookieName, { path: '/' });
      if (!user) return reply.redirect(SIGNED_OUT_PATH, 303);
      req.log.info({ sub: user.sub }, 'console sign-out');
      await ctx.oidc.revoke(user);
      // Then out of the issuer too, where it supports RP-initiated logout.
      const end = await ctx.oidc.endSessionUrl(user);
      return reply.redirect(end?.href ?? SIGNED_OUT_PATH, 303);
    });

    scope.get(SIGNED_OUT_PATH, async (req, reply) =>
      ctx.render(req, reply, 'signed-out', { title: 'Signed out' }),
    );
  },
};
