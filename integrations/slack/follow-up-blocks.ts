// What reviewers hear when something waits for them: the reply under a posted message (shown in the
// channel too) and the DM to each reviewer who has not acted, for a pending request or an open
// break-glass review. Pure functions of a card and the occasion.
import type { ReminderOccasion } from '../../common/activities.js';
import type { ReviewCard } from '../../common/breakglass-review.js';
import type { GrantCard } from '../../common/grant.js';
import { escapeText, humanDuration, person, slackTime } from './blocks.js';

type Kind = 'approval' | 'review';

const isReview = (kind: Kind, card: GrantCard | ReviewCard): card is ReviewCard =>
  kind === 'review' && 'review' in card;

function opening(kind: Kind, card: GrantCard | ReviewCard, occasion: ReminderOccasion): string {
  if (isReview(kind, card)) {
    const n = card.review.escalations;
    return `:rotating_light: Not reviewed by its deadline (${slackTime(card.review.deadline)})${n > 1 ? `, escalation ${n}` : ''}.`;
  }
  switch (occasion.type) {
    case 'reminder':
      return `:bell: Reminder ${occasion.reminder} of ${occasion.of}: still waiting for approval (${card.approvals.length} of ${card.requiredApprovals}).`;
    case 'escalation':
      return ':rotating_light: Escalated: this request has waited too long without a decision.';
    case 'nudge':
      return `:wave: ${person(card.requester)} asks the reviewers to look at this request.`;
  }
}

/** The threaded reply under the approval or review message. */
export function reminderReply(kind: Kind, card: GrantCard | ReviewCard, occasion: ReminderOccasion): string {
  return opening(kind, card, occasion);
}

/** The DM to one reviewer who has not acted. */
export function reviewerReminder(
  kind: Kind,
  card: GrantCard | ReviewCard,
  occasion: ReminderOccasion,
): string {
  const role = `*${escapeText(card.role.id)}*`;
  const ticket = card.ticket ? ` (ticket ${escapeText(card.ticket)})` : '';
  const what = `${person(card.requester)} ${kind === 'review' ? 'used break-glass access to' : 'asks for'} ${role} for ${humanDuration(card.duration)}${ticket}: "${escapeText(card.reason)}"`;
  const how =
    kind === 'review'
      ? `Review it on the channel message, or \`jit review ${card.id} --ok\` / \`jit review ${card.id} --flag --comment "..."\`.`
      : `Decide on the channel message, or \`jit approve ${card.id}\` / \`jit deny ${card.id} --reason "..."\`.`;
  return `${opening(kind, card, occasion)} ${what}. ${how}`;
}
