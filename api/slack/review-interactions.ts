// The break-glass review in Slack: Acknowledge decides at once; Flag opens a modal asking why (and
// whether to revoke the grant). The Slack user becomes a directory identity by verified email and
// the decision goes through GrantService.review, signed for door `slack`, with an update id taken
// from the action so Slack's retries count once. The person who used the access is refused.
import type { App } from '@slack/bolt';
import { z } from 'zod';
import { GRANT_ID } from '../../common/grant.js';
import { openModal } from '../../integrations/slack/client.js';
import {
  ACKNOWLEDGE_ACTION,
  FLAG_ACTION,
  FLAG_MODAL,
  FLAG_REASON_BLOCK,
  FLAG_REASON_INPUT,
  FLAG_REASON_MAX,
  FLAG_REVOKE_BLOCK,
  FLAG_REVOKE_INPUT,
  FLAG_REVOKE_VALUE,
  flagModal,
} from '../../integrations/slack/review-blocks.js';
import { ApiError } from '../errors.js';
import type { GrantService } from '../grant-service.js';
import { parseClick, type SlackInteractionDeps, slackActors } from './interactions.js';

export interface ReviewInteractionDeps extends Omit<SlackInteractionDeps, 'grants'> {
  grants: Pick<GrantService, 'review' | 'assertMayDecideReview'>;
}

const flagMetadata = z.object({ grantId: z.string().regex(GRANT_ID), channel: z.string().min(1).optional() });
const flagSubmission = z.object({
  user: z.object({ id: z.string().min(1) }),
  view: z.object({
    id: z.string().min(1),
    private_metadata: z.string(),
    state: z.object({
      values: z.record(
        z.string(),
        z.record(
          z.string(),
          z.object({
            value: z.string().nullish(),
            selected_options: z.array(z.object({ value: z.string() })).nullish(),
          }),
        ),
      ),
    }),
  }),
});

/** What the reviewer reads when a review click changed nothing. */
export function explainReviewRefusal(err: unknown): string {
  if (!(err instanceof ApiError))
    return 'Something went wrong and nothing was changed. Try again, or use `jit review`.';
  switch (err.code) {
    case 'self_approval':
      return 'You cannot review your own break-glass access. Nothing was changed.';
    case 'not_eligible':
    case 'not_found':
      return 'You are not a reviewer of this role. Nothing was changed.';
    case 'review_closed':
      return `This review is already decided (${err.message}).`;
    default:
      return `Nothing was changed: ${err.message}`;
  }
}

export function registerReviewInteractions(bolt: App, deps: ReviewInteractionDeps): void {
  const { grants, slack, log } = deps;
  const { asReviewer } = slackActors(deps);

  bolt.action(ACKNOWLEDGE_ACTION, async ({ ack, body }) => {
    await ack();
    const click = parseClick(body);
    if (!click) return log.warn('malformed Slack acknowledge payload ignored');
    await asReviewer(
      'review',
      click.user,
      click.channel,
      async (who) => {
        const updateId = `slack:review:${click.grantId}:${click.user}:${click.actionTs}`;
        await grants.review(who, click.grantId, { outcome: 'acknowledged' }, { updateId, door: 'slack' });
        log.info({ grantId: click.grantId, by: who.sub }, 'break-glass review acknowledged from Slack');
      },
      explainReviewRefusal,
    );
  });

  bolt.action(FLAG_ACTION, async ({ ack, body }) => {
    await ack();
    const click = parseClick(body);
    if (!click) return log.warn('malformed Slack flag payload ignored');
    await asReviewer(
      'review',
      click.user,
      click.channel,
      async (who) => {
        // Refuse before asking for a reason the workflow would throw away.
        await grants.assertMayDecideReview(who, click.grantId);
        const metadata = { grantId: click.grantId, ...(click.channel ? { channel: click.channel } : {}) };
        await openModal(slack, click.triggerId, flagModal(JSON.stringify(metadata)));
      },
      explainReviewRefusal,
    );
  });

  bolt.view(FLAG_MODAL, async ({ ack, body }) => {
    const submission = flagSubmission.safeParse(body);
    const values = submission.success ? submission.data.view.state.values : {};
    const reason = values[FLAG_REASON_BLOCK]?.[FLAG_REASON_INPUT]?.value?.trim();
    if (!submission.success || !reason) {
      return ack({
        response_action: 'errors',
        errors: { [FLAG_REASON_BLOCK]: 'Say why you flag this access.' },
      });
    }
    await ack();
    const revoke = (values[FLAG_REVOKE_BLOCK]?.[FLAG_REVOKE_INPUT]?.selected_options ?? []).some(
      (o) => o.value === FLAG_REVOKE_VALUE,
    );
    const { user, view } = submission.data;
    let meta: z.infer<typeof flagMetadata>;
    try {
      meta = flagMetadata.parse(JSON.parse(view.private_metadata));
    } catch {
      return log.warn('Slack flag submission with unreadable metadata ignored');
    }
    await asReviewer(
      'review',
      user.id,
      meta.channel,
      async (who) => {
        const updateId = `slack:review-flag:${meta.grantId}:${view.id}`;
        await grants.review(
          who,
          meta.grantId,
          { outcome: 'flagged', comment: reason.slice(0, FLAG_REASON_MAX), ...(revoke ? { revoke } : {}) },
          { updateId, door: 'slack' },
        );
        log.info({ grantId: meta.grantId, by: who.sub, revoke }, 'break-glass access flagged from Slack');
      },
      explainReviewRefusal,
    );
  });
}
