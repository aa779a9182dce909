// What the broker says in Slack about the post-hoc review of a break-glass grant: the review
// message (Acknowledge and Flag buttons while open) and the flag modal. Pure functions of a card,
// so the message always shows the review's state.
import type { ReviewCard } from '../../common/breakglass-review.js';
import { escapeText, humanDuration, mrkdwn, person, slackTime } from './blocks.js';

export const ACKNOWLEDGE_ACTION = 'review_acknowledge';
export const FLAG_ACTION = 'review_flag';
export const FLAG_MODAL = 'review_flag_reason';
export const FLAG_REASON_BLOCK = 'reason';
export const FLAG_REASON_INPUT = 'reason_input';
export const FLAG_REVOKE_BLOCK = 'revoke';
export const FLAG_REVOKE_INPUT = 'revoke_input';
export const FLAG_REVOKE_VALUE = 'revoke';
/** The API's limit on comments, so a Slack flag fits the same record. */
export const FLAG_REASON_MAX = 500;

/** Where the review stands, in one line. */
export function reviewStatusLine(card: ReviewCard): string {
  const review = card.review;
  if (review.status === 'open') {
    const overdue =
      review.escalations > 0
        ? ` · :rotating_light: overdue, escalated ${review.escalations} time${review.escalations === 1 ? '' : 's'}`
        : '';
    return `:mag: Waiting for a review by ${slackTime(review.deadline)}${overdue}`;
  }
  const by = escapeText(review.reviewerEmail ?? review.reviewer ?? 'a reviewer');
  const why = review.comment ? `: ${escapeText(review.comment)}` : '';
  const late = review.onTime === false ? ' (after the deadline)' : '';
  return review.outcome === 'flagged'
    ? `:triangular_flag_on_post: Flagged by ${by}${late}${why}${review.revokeRequested ? ' · revocation asked' : ''}`
    : `:white_check_mark: Acknowledged by ${by}${late}${why}`;
}

/** The review message: whose access, what for, since when; buttons while the review is open. */
export function reviewMessage(card: ReviewCard): { text: string; blocks: object[] } {
  const field = (label: string, value: string) => mrkdwn(`*${label}*\n${value}`);
  const groups = card.reviewerGroups.map(escapeText).join(', ') || '_none_';
  const blocks: object[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: `Break-glass review: ${card.role.id}`.slice(0, 150) },
    },
    {
      type: 'section',
      fields: [
        field('Used by', person(card.requester)),
        field('Role', escapeText(card.role.id)),
        field('Account', escapeText(card.role.account ?? 'unknown')),
        field('Duration', humanDuration(card.duration)),
        field('Ticket', card.ticket ? escapeText(card.ticket) : '_none_'),
        field('Reviewers', groups),
      ],
    },
    { type: 'section', text: mrkdwn(`*Reason*\n${escapeText(card.reason)}`) },
    { type: 'section', text: mrkdwn(reviewStatusLine(card)) },
  ];
  if (card.review.status === 'open') {
    blocks.push({
      type: 'actions',
      block_id: 'review',
      elements: [
        {
          type: 'button',
          action_id: ACKNOWLEDGE_ACTION,
          text: { type: 'plain_text', text: 'Acknowledge' },
          style: 'primary',
          value: card.id,
        },
        {
          type: 'button',
          action_id: FLAG_ACTION,
          text: { type: 'plain_text', text: 'Flag' },
          style: 'danger',
          value: card.id,
        },
      ],
    });
  }
  blocks.push({ type: 'context', elements: [mrkdwn(`Grant \`${card.id}\``)] });
  const text = `Break-glass access by ${person(card.requester)} to ${escapeText(card.role.id)}: ${reviewStatusLine(card)}`;
  return { text, blocks };
}

/** The modal a reviewer fills in to flag: why (required), and whether to revoke the grant now. */
export function flagModal(metadata: string): object {
  return {
    type: 'modal',
    callback_id: FLAG_MODAL,
    private_metadata: metadata,
    title: { type: 'plain_text', text: 'Flag break-glass access' },
    submit: { type: 'plain_text', text: 'Flag' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'input',
        block_id: FLAG_REASON_BLOCK,
        label: { type: 'plain_text', text: 'What is wrong (kept in the audit trail)' },
        element: {
          type: 'plain_text_input',
          action_id: FLAG_REASON_INPUT,
          multiline: true,
          min_length: 1,
          max_length: FLAG_REASON_MAX,
        },
      },
      {
        type: 'input',
        block_id: FLAG_REVOKE_BLOCK,
        optional: true,
        label: { type: 'plain_text', text: 'Access' },
        element: {
          type: 'checkboxes',
          action_id: FLAG_REVOKE_INPUT,
          options: [
            {
              text: { type: 'plain_text', text: 'Revoke the grant now, if it is still active' },
              value: FLAG_REVOKE_VALUE,
            },
          ],
        },
      },
    ],
  };
}
