// The request form: built from the roles policy lets this person request, with each role's limits.
// The browser checks the form before it is sent (assets/console.js); the server checks it again
// and GrantService.start decides, exactly as for POST /v1/requests.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ApiError } from '../../errors.js';
import type { ConsoleContext, ConsolePage } from '../context.js';
import { describeError } from '../context.js';
import { FormError, parseForm, requestForm } from '../forms.js';
import { duration } from '../view-model.js';

const roleQuery = z.object({ role: z.string().max(64).optional() });

async function renderForm(
  ctx: ConsoleContext,
  req: FastifyRequest,
  reply: FastifyReply,
  opts: {
    values?: Record<string, unknown>;
    fields?: Record<string, string>;
    error?: string;
    status?: number;
  } = {},
) {
  const roles = ctx.deps.grants.requestableRoles(req.principal);
  const query = roleQuery.safeParse(req.query);
  const chosen = (opts.values?.role as string | undefined) ?? (query.success ? query.data.role : undefined);
  return ctx.render(
    req,
    reply,
    'request',
    {
      title: 'Request access',
      roles,
      values: {
        duration: '',
        reason: '',
        ticket: '',
        ...opts.values,
        role: roles.some((r) => r.id === chosen) ? chosen : roles[0]?.id,
      },
      fields: opts.fields ?? {},
      error: opts.error,
      formKey: ctx.formKey(),
    },
    opts.status ?? 200,
  );
}

export const requestPage: ConsolePage = {
  nav: {
    path: '/request',
    label: 'Request access',
    visible: (principal, ctx) => ctx.deps.grants.requestableRoles(principal).length > 0,
  },
  register(scope, ctx) {
    scope.get('/request', { preHandler: ctx.signedIn }, (req, reply) => renderForm(ctx, req, reply));

    scope.post('/request', { preHandler: [ctx.signedIn, scope.csrfProtection] }, async (req, reply) => {
      const raw = (req.body ?? {}) as Record<string, unknown>;
      const values = { role: raw.role, duration: raw.duration, reason: raw.reason, ticket: raw.ticket };
      try {
        const form = parseForm(requestForm, req.body);
        const role = ctx.deps.grants.requestableRoles(req.principal).find((r) => r.id === form.role);
        if (!role) throw new FormError({ role: 'is not a role you may request' });
        if (role.breakGlass && !form.breakGlass)
          throw new FormError({
            breakGlass: 'confirm that this is an emergency: break-glass is reviewed after the fact',
          });
        const { view } = await ctx.deps.grants.start(
          req.principal,
          {
            role: form.role,
            durationSeconds: form.duration,
            reason: form.reason,
            ...(form.ticket ? { ticket: form.ticket } : {}),
          },
          { idempotencyKey: form.key, door: 'console' },
        );
        ctx.flash(req, {
          kind: 'success',
          text:
            view.status === 'active'
              ? `${view.role.id} is active for ${duration(view.duration)}.`
              : view.status === 'pending'
                ? `Requested ${view.role.id}: it waits for ${view.requiredApprovals || 'its'} approval${view.requiredApprovals === 1 ? '' : 's'}.`
                : `Your request for ${view.role.id} is ${view.status.replace('_', ' ')}.`,
        });
        return reply.redirect(`/grants/${view.id}`, 303);
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        return renderForm(ctx, req, reply, {
          values,
          fields: err instanceof FormError ? err.fields : {},
          error: err instanceof FormError ? 'Please correct the fields marked below.' : describeError(err),
          status: err.status,
        });
      }
    });
  },
};
