// The review queue: what waits for this reviewer (requests and extensions), with approve and deny
// right there, and what they decided lately, marked. Self-review is never offered (the list leaves
// out their own requests); forced, the workflow refuses it.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GrantListItem } from '../../../common/grant.js';
import { ApiError } from '../../errors.js';
import type { ConsoleContext, ConsolePage } from '../context.js';

interface Problem {
  id: string;
  form: string;
  message: string;
  fields: Record<string, string>;
  values: Record<string, unknown>;
}

/** "You approved" / "You denied" when this person decided the grant (or its extension). */
function decidedBy(item: GrantListItem, sub: string): string | undefined {
  if (item.requester.sub === sub) return undefined;
  if (item.status === 'denied' && item.endedBy === sub) return 'You denied';
  const approved =
    item.approvals.some((a) => a.by === sub) || item.pendingExtension?.approvals.some((a) => a.by === sub);
  return approved ? 'You approved' : undefined;
}

export async function renderReviews(
  ctx: ConsoleContext,
  req: FastifyRequest,
  reply: FastifyReply,
  problem?: Problem,
  status = 200,
) {
  const { grants, store } = ctx.deps;
  if (grants.reviewedRoles(req.principal).length === 0)
    throw new ApiError('forbidden', 'only reviewers have a review queue');
  const version = await store.grants.lastChange();
  const waiting = await grants.list(req.principal, { awaitingMyReview: true, limit: 100 });
  const recent = await grants.list(req.principal, { limit: 100 });
  const decided = recent.items
    .map((item) => ({ item, mark: decidedBy(item, req.principal.sub) }))
    .filter((entry) => entry.mark !== undefined)
    .slice(0, 20);
  return ctx.render(
    req,
    reply,
    'reviews',
    {
      title: 'Reviews',
      waiting: waiting.items,
      decided,
      problem,
      formKey: ctx.formKey(),
      live: { url: '/live', version },
    },
    status,
  );
}

export const reviewsPage: ConsolePage = {
  nav: {
    path: '/reviews',
    label: 'Reviews',
    visible: (principal, ctx) => ctx.deps.grants.reviewedRoles(principal).length > 0,
    count: async (principal, ctx) =>
      (await ctx.deps.grants.list(principal, { awaitingMyReview: true, limit: 100 })).items.length,
  },
  register(scope, ctx) {
    scope.get('/reviews', { preHandler: ctx.signedIn }, (req, reply) => renderReviews(ctx, req, reply));
  },
};
