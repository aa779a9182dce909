// The review queue: what waits for this reviewer (requests and extensions), with approve and deny
// right there; the open post-hoc reviews of break-glass grants, with acknowledge and flag; and what
// they decided lately, marked. Self-review is never offered (the list leaves out their own
// requests, GrantService their own break-glass use); forced, the workflows refuse it.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GrantListItem, Principal } from '../../../common/grant.js';
import { ApiError } from '../../errors.js';
import type { ConsoleContext, ConsolePage } from '../context.js';

interface Problem {
  id: string;
  form: string;
  message: string;
  fields: Record<string, string>;
  values: Record<string, unknown>;
}

/** "You approved" / "You denied" / "You flagged" when this person decided the grant, its extension or its review. */
function decidedBy(item: GrantListItem, sub: string): string | undefined {
  if (item.requester.sub === sub) return undefined;
  if (item.review?.status === 'decided' && item.review.reviewer === sub)
    return item.review.outcome === 'flagged' ? 'You flagged' : 'You acknowledged';
  if (item.status === 'denied' && item.endedBy === sub) return 'You denied';
  const approved =
    item.approvals.some((a) => a.by === sub) || item.pendingExtension?.approvals.some((a) => a.by === sub);
  return approved ? 'You approved' : undefined;
}

/**
 * What waits for this person: approvals (a pending request, or an active grant's extension) and
 * open break-glass reviews they may decide (GrantService's rule, as the API applies it). One grant
 * can be in both.
 */
async function queueOf(ctx: ConsoleContext, principal: Principal) {
  const { grants } = ctx.deps;
  const waiting = await grants.list(principal, { awaitingMyReview: true, limit: 100 });
  const approvals = waiting.items.filter(
    (g) => g.status === 'pending' || (g.status === 'active' && g.pendingExtension !== undefined),
  );
  const breakGlass = waiting.items
    .filter((g) => g.review?.status === 'open')
    .map((grant) => ({ grant, actions: grants.offeredActions(principal, grant) }))
    .filter((entry) => entry.actions.breakGlassReview)
    // Soonest deadline first: overdue ones lead.
    .sort((a, b) => (a.grant.review?.deadline ?? '').localeCompare(b.grant.review?.deadline ?? ''));
  return { approvals, breakGlass };
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
  const { approvals, breakGlass } = await queueOf(ctx, req.principal);
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
      waiting: approvals,
      breakGlass,
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
    count: async (principal, ctx) => {
      const { approvals, breakGlass } = await queueOf(ctx, principal);
      return approvals.length + breakGlass.length;
    },
  },
  register(scope, ctx) {
    scope.get('/reviews', { preHandler: ctx.signedIn }, (req, reply) => renderReviews(ctx, req, reply));
  },
};
