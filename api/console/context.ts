// What every console page shares: the signed-in gate, rendering with the common frame (who is
// signed in, the navigation, a CSRF token, a one-time message), and error pages written for people.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ulid } from 'ulid';
import type { Principal } from '../../common/grant.js';
import { AuthError } from '../auth.js';
import { ApiError, type ErrorCode } from '../errors.js';
import type { ConsoleDeps } from './options.js';
import type { Flash, SignedInUser } from './session.js';
import type { ConsoleOidc } from './sign-in.js';
import { viewHelpers } from './view-model.js';

/** An entry of the navigation; a page without one is reached by links only. */
export interface NavItem {
  path: string;
  label: string;
  visible(principal: Principal, ctx: ConsoleContext): boolean;
  /** A count shown next to the label (e.g. what waits for review). */
  count?(principal: Principal, ctx: ConsoleContext): Promise<number>;
}

/** One page (or a few related ones) of the console: its routes and, optionally, its nav entry. */
export interface ConsolePage {
  nav?: NavItem;
  register(scope: FastifyInstance, ctx: ConsoleContext): void;
}

/** Messages for people, by error code; the code is shown too, for support. */
const friendly: Partial<Record<ErrorCode, string>> = {
  not_found: "We can't find that. It may not exist, or you may not be allowed to see it.",
  forbidden: 'This page is not for you: your groups do not allow it.',
  self_approval: 'You cannot review your own request or your own break-glass access.',
  review_closed: 'This review has already been decided.',
  not_eligible: 'You are not a reviewer for this role.',
  not_requester: 'Only the person who asked for this grant can do that.',
  already_approved: 'You have already approved this; someone else must approve too.',
  already_decided: 'This request has already been decided.',
  grant_not_pending: 'This request is no longer waiting for a decision.',
  grant_not_active: 'This grant is not active.',
  extension_pending: 'An extension is already waiting for approval.',
  extension_exceeds_cap: "That would take the grant past its role's total limit.",
  policy_denied: 'Policy does not allow this request.',
  federation_failed: 'The AWS console sign-in could not be prepared. Try again later.',
  aws_unavailable: 'AWS did not answer. Try again in a moment.',
  worker_unavailable: 'The broker is not processing requests right now. Try again in a moment.',
  grant_busy: 'The grant is busy with another change. Try again in a moment.',
  not_ready: 'The broker is starting or its identity provider is unreachable. Try again in a moment.',
};

export function describeError(err: ApiError): string {
  const text = friendly[err.code];
  // Policy and validation messages say what to change; keep them.
  if (err.code === 'policy_denied' || err.code === 'validation_failed' || err.code === 'invalid_argument')
    return `${text ?? 'That did not work'} ${err.message}.`.replace(/\.\.$/, '.');
  return text ?? err.message;
}

export interface RenderData {
  title: string;
  [key: string]: unknown;
}

export interface ConsoleContext {
  deps: ConsoleDeps;
  oidc: ConsoleOidc;
  pages: readonly ConsolePage[];
  cookieName: string;
  /** preHandler: a signed-in person, else the sign-in (pages) or 401 (everything else). */
  signedIn(req: FastifyRequest, reply: FastifyReply): Promise<void>;
  /** Renders a page in the console's frame. */
  render(
    req: FastifyRequest,
    reply: FastifyReply,
    view: string,
    data: RenderData,
    status?: number,
  ): Promise<void>;
  /** Renders the error page for an ApiError. */
  renderError(req: FastifyRequest, reply: FastifyReply, err: ApiError): Promise<void>;
  /** A one-time message for the next page. */
  flash(req: FastifyRequest, flash: Flash): void;
  /** A fresh form key: a form submitted twice makes one decision. */
  formKey(): string;
}

export function createContext(
  deps: ConsoleDeps,
  oidc: ConsoleOidc,
  pages: readonly ConsolePage[],
  cookieName: string,
): ConsoleContext {
  // Refreshes per session in this process run one at a time: a rotated refresh token is spent once.
  const refreshing = new Map<string, Promise<SignedInUser>>();

  const signInUrl = (req: FastifyRequest) =>
    `/auth/login?returnTo=${encodeURIComponent(req.url.length <= 512 ? req.url : '/')}`;

  const notSignedIn = async (req: FastifyRequest, reply: FastifyReply, expired: boolean) => {
    if (req.session?.user) {
      await req.session.destroy().catch(() => {});
      reply.clearCookie(cookieName, { path: '/' });
    }
    const wantsPage = req.method === 'GET' && (req.headers.accept ?? '').includes('text/html');
    if (wantsPage) return reply.redirect(signInUrl(req), 303);
    await ctx.render(
      req,
      reply,
      'error',
      {
        title: 'Sign in',
        heading: expired ? 'Your session has ended' : 'Please sign in',
        message: 'Sign in again to continue. Nothing was changed.',
        code: 'unauthenticated',
        signIn: true,
      },
      401,
    );
  };

  const ctx: ConsoleContext = {
    deps,
    oidc,
    pages,
    cookieName,

    async signedIn(req, reply) {
      let user = req.session?.user;
      const now = Date.now();
      if (!user) return notSignedIn(req, reply, false);
      if (user.sessionEndsAt <= now) return notSignedIn(req, reply, true);
      if (user.accessTokenExpiresAt - 60_000 <= now) {
        const id = req.session.sessionId;
        let pending = refreshing.get(id);
        if (!pending) {
          pending = oidc.refresh(user).finally(() => refreshing.delete(id));
          refreshing.set(id, pending);
        }
        try {
          user = await pending;
        } catch (err) {
          req.log.info(
            { err: (err as Error).message },
            'console session could not be refreshed; signing out',
          );
          return notSignedIn(req, reply, true);
        }
        req.session.user = user;
        // Saved now: a hijacked reply (live updates) never reaches the session's own save.
        await req.session.save();
      }
      try {
        // The same check as a bearer token on the JSON API: one authorization for both.
        req.principal = await deps.authenticator.authenticate(`Bearer ${user.accessToken}`);
      } catch (err) {
        if (!(err instanceof AuthError)) throw err;
        if (err.reason === 'issuer_unreachable') throw new ApiError('not_ready', err.message);
        req.log.info({ reason: err.reason, detail: err.detail }, 'console session token refused');
        return notSignedIn(req, reply, true);
      }
    },

    async render(req, reply, view, data, status = 200) {
      const user = req.session?.user;
      const principal = user && req.principal ? req.principal : undefined;
      const nav = [];
      if (principal) {
        for (const page of pages) {
          const item = page.nav;
          if (!item?.visible(principal, ctx)) continue;
          const count = item.count ? await item.count(principal, ctx).catch(() => 0) : 0;
          const current =
            req.url === item.path ||
            req.url.startsWith(`${item.path}/`) ||
            req.url.startsWith(`${item.path}?`);
          nav.push({ path: item.path, label: item.label, count, current });
        }
      }
      const flash = req.session?.flash;
      if (flash) req.session.flash = undefined;
      const frame = {
        user: user
          ? { sub: user.sub, name: user.name ?? user.email ?? user.sub, email: user.email }
          : undefined,
        principal,
        nav,
        flash,
        csrfToken: user ? reply.generateCsrf() : undefined,
        fmt: viewHelpers,
        live: undefined,
      };
      reply.code(status).header('cache-control', 'no-store');
      const html = await reply.viewAsync(view, { ...frame, ...data });
      return reply.type('text/html; charset=utf-8').send(html);
    },

    async renderError(req, reply, err) {
      const status = err.status;
      const headings: Record<number, string> = {
        400: 'That did not work',
        403: 'Not allowed',
        404: 'Not found',
        409: 'That cannot be done now',
        413: 'Too much input',
        502: 'AWS sign-in is unavailable',
        503: 'Try again in a moment',
      };
      const heading =
        headings[status] ?? (status >= 500 ? 'Something went wrong on our side' : 'That did not work');
      return ctx.render(
        req,
        reply,
        'error',
        { title: heading, heading, message: describeError(err), code: err.code, requestId: req.id },
        status,
      );
    },

    flash(req, flash) {
      req.session.flash = flash;
    },

    formKey: () => ulid(),
  };
  return ctx;
}
