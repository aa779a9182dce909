// Reminders to reviewers: the eligible reviewers of a grant are the directory's people whom Cedar
// lets approve it (or review it, for a break-glass review), never its requester; each who has not
// acted yet gets a DM. Without Slack or a directory there is nobody to tell.
import type { WebClient } from '@slack/web-api';
import type { ReviewerReminder } from '../common/activities.js';
import { samePerson } from '../common/identity.js';
import type { Directory } from '../integrations/directory.js';
import { directMessage } from '../integrations/slack/client.js';
import { reviewerReminder } from '../integrations/slack/follow-up-blocks.js';
import type { PolicyEngine } from '../policies/engine.js';
import { slackCall } from './slack.js';

export function createReviewerActivities({
  engine,
  directory,
  slack,
}: {
  engine: Pick<PolicyEngine, 'mayApprove' | 'mayReview'>;
  directory: Directory | undefined;
  slack: WebClient | undefined;
}) {
  return {
    async remindReviewers(args: ReviewerReminder): Promise<{ notified: number }> {
      if (!slack || !directory) return { notified: 0 };
      const { card, roleId, requester } = args;
      const facts = {
        durationSeconds: card.duration,
        reason: card.reason,
        breakGlass: card.breakGlass,
        ...(card.ticket ? { ticket: card.ticket } : {}),
        escalated: args.escalated,
      };
      const text = reviewerReminder(args.kind, card, args.occasion);
      let notified = 0;
      for (const person of directory.people()) {
        if (!person.email || args.acted.includes(person.sub) || samePerson(person, requester)) continue;
        const verdict =
          args.kind === 'review'
            ? engine.mayReview(person, roleId, requester.sub, facts)
            : engine.mayApprove(person, roleId, requester.sub, facts);
        if (!verdict.allowed) continue;
        const email = person.email;
        if (await slackCall('direct message', () => directMessage(slack, email, text))) notified += 1;
      }
      return { notified };
    },
  };
}
