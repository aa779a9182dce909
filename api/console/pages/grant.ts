// A grant's page: where it stands, its timeline, its sessions (AccessKeyId and SourceIdentity, for
// CloudTrail), and the actions this person is offered on it. Every action goes to GrantService as
// the JSON routes do, signed as a decision of the console; the workflow has the last word.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GrantView } from '../../../common/grant.js';
import { ApiError } from '../../errors.js';
import type { ConsoleContext, ConsolePage } from '../context.js';
import { describeError } from '../context.js';
import {
  acknowledgeForm,
  approveForm,
  denyForm,
  extendForm,
  FormError,
  flagForm,
  parseForm,
  plainForm,
  revokeForm,
} from '../forms.js';
import { duration, who } from '../view-model.js';
import { renderReviews } from './reviews.js';

interface Problem {
  /** Which form the problem is about, so the page shows it there. */
  form: string;
  message: string;
  fields: Record<string, string>;
  values: Record<string, unknown>;
}

export async function renderGrant(
  ctx: ConsoleContext,
  req: FastifyRequest,
  reply: FastifyReply,
  id: string,
  problem?: Problem,
  status = 200,
) {
  const { grants, store, engine } = ctx.deps;
  const version = await store.grants.lastChange(id);
  const view = await grants.get(req.principal, id);
  const auditor = engine.mayAudit(req.principal);
  const events = auditor ? (await store.searchEvents({ grantId: id }, 200)).events.reverse() : [];
  return ctx.render(
    req,
    reply,
    'grant',
    {
      title: `${view.role.id} for ${duration(view.duration)}`,
      grant: view,
      actions: grants.offeredActions(req.principal, view),
      auditor,
      events,
      problem,
      formKey: ctx.formKey(),
      live: { url: `/live?grant=${encodeURIComponent(id)}`, version },
    },
    status,
  );
}

type Action = (
  req: FastifyRequest,
  id: string,
) => Promise<{ view: GrantView; message: string; returnTo?: string }>;

export const grantPage: ConsolePage = {
  register(scope, ctx) {
    const { grants } = ctx.deps;
    const door = { door: 'console' as const };
    // One update id per (person, action, rendered form): a form sent twice decides once.
    const decision = (req: FastifyRequest, action: string, key: string) => ({
      ...door,
      updateId: `${req.principal.sub}:${action}:console-${key}`,
    });

    scope.get<{ Params: { id: string } }>('/grants/:id', { preHandler: ctx.signedIn }, (req, reply) =>
      renderGrant(ctx, req, reply, req.params.id),
    );

    const act = (name: string, run: Action) =>
      scope.post<{ Params: { id: string } }>(
        `/grants/:id/${name}`,
        { preHandler: [ctx.signedIn, scope.csrfProtection] },
        async (req, reply) => {
          const id = req.params.id;
          const body = (req.body ?? {}) as Record<string, unknown>;
          try {
            const { view, message, returnTo } = await run(req, id);
            ctx.flash(req, { kind: 'success', text: message });
            return reply.redirect(returnTo ?? `/grants/${view.id}`, 303);
          } catch (err) {
            if (!(err instanceof ApiError) || err.code === 'not_found') throw err;
            const problem: Problem = {
              form: name,
              message:
                err instanceof FormError ? 'Please correct the fields marked below.' : describeError(err),
              fields: err instanceof FormError ? err.fields : {},
              values: body,
            };
            if (body.returnTo === '/reviews')
              return renderReviews(ctx, req, reply, { id, ...problem }, err.status);
            return renderGrant(ctx, req, reply, id, problem, err.status);
          }
        },
      );

    act('approve', async (req, id) => {
      const form = parseForm(approveForm, req.body);
      const view = await grants.approve(req.principal, id, form.comment, {
        ...decision(req, 'approve', form.key),
        target: form.target,
      });
      const waiting =
        form.target === 'extension' ? view.pendingExtension : view.status === 'pending' ? view : undefined;
      const message = waiting
        ? `Approved. ${waiting.approvals.length} of ${waiting.requiredApprovals} approvals so far.`
        : form.target === 'extension'
          ? `Approved: ${view.role.id} of ${who(view.requester.sub, view.requester.email)} is extended.`
          : `Approved: ${view.role.id} of ${who(view.requester.sub, view.requester.email)} is ${view.status}.`;
      return { view, message, ...(form.returnTo ? { returnTo: form.returnTo } : {}) };
    });

    act('deny', async (req, id) => {
      const form = parseForm(denyForm, req.body);
      const view = await grants.deny(req.principal, id, form.reason, {
        ...decision(req, 'deny', form.key),
        target: form.target,
      });
      const what =
        form.target === 'extension'
          ? 'the extension'
          : `${view.role.id} for ${who(view.requester.sub, view.requester.email)}`;
      return { view, message: `Denied ${what}.`, ...(form.returnTo ? { returnTo: form.returnTo } : {}) };
    });

    // The break-glass review, through GrantService.review as `POST /v1/requests/:id/review` does.
    act('acknowledge', async (req, id) => {
      const form = parseForm(acknowledgeForm, req.body);
      const view = await grants.review(
        req.principal,
        id,
        { outcome: 'acknowledged', ...(form.comment ? { comment: form.comment } : {}) },
        decision(req, 'acknowledge', form.key),
      );
      const message = `Acknowledged the break-glass use of ${view.role.id} by ${who(view.requester.sub, view.requester.email)}.`;
      return { view, message, ...(form.returnTo ? { returnTo: form.returnTo } : {}) };
    });

    act('flag', async (req, id) => {
      const form = parseForm(flagForm, req.body);
      const revoke = form.revoke === 'on';
      const view = await grants.review(
        req.principal,
        id,
        { outcome: 'flagged', comment: form.reason, ...(revoke ? { revoke } : {}) },
        decision(req, 'flag', form.key),
      );
      // The read model may not have the revocation yet; say only what it shows.
      const ended = !revoke
        ? ''
        : view.status === 'revoked'
          ? ' The grant is revoked.'
          : view.status === 'active'
            ? ' The grant is being revoked.'
            : ' The grant had already ended.';
      const message = `Flagged the break-glass use of ${view.role.id} by ${who(view.requester.sub, view.requester.email)}.${ended}`;
      return { view, message, ...(form.returnTo ? { returnTo: form.returnTo } : {}) };
    });

    act('cancel', async (req, id) => {
      const form = parseForm(plainForm, req.body);
      const view = await grants.cancel(req.principal, id, decision(req, 'cancel', form.key));
      return { view, message: 'Cancelled. Nothing was granted.' };
    });

    act('revoke', async (req, id) => {
      const form = parseForm(revokeForm, req.body);
      const view = await grants.revoke(req.principal, id, form.reason, decision(req, 'revoke', form.key));
      return { view, message: 'Revoked. Sessions still open are denied until they expire.' };
    });

    act('extend', async (req, id) => {
      const form = parseForm(extendForm, req.body);
      const view = await grants.extend(
        req.principal,
        id,
        form.duration,
        form.reason,
        decision(req, 'extend', form.key),
      );
      const message = view.pendingExtension
        ? `Extension of ${duration(form.duration)} requested: it waits for approval.`
        : `Extended by ${duration(form.duration)}.`;
      return { view, message };
    });

    // Fresh credentials, exchanged at the federation endpoint for a sign-in URL; the browser goes there.
    scope.post<{ Params: { id: string } }>(
      '/grants/:id/aws-console',
      { preHandler: [ctx.signedIn, scope.csrfProtection] },
      async (req, reply) => {
        const id = req.params.id;
        try {
          const form = parseForm(plainForm, req.body);
          const { url } = await grants.console(req.principal, id, decision(req, 'console', form.key));
          reply.header('cache-control', 'no-store');
          return reply.redirect(url, 303);
        } catch (err) {
          if (!(err instanceof ApiError) || err.code === 'not_found') throw err;
          const problem = { form: 'aws-console', message: describeError(err), fields: {}, values: {} };
          return renderGrant(ctx, req, reply, id, problem, err.status);
        }
      },
    );
  },
};
