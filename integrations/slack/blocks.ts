// What the broker says in Slack: the approval message (Block Kit), the deny modal and the
// requester's DMs. Pure functions of a grant card, so the message always shows the grant's state.
import type { GrantCard, RequesterNoticeKind } from '../../common/grant.js';

export const APPROVE_ACTION = 'grant_approve';
export const DENY_ACTION = 'grant_deny';
export const DENY_MODAL = 'grant_deny_reason';
export const DENY_REASON_BLOCK = 'reason';
export const DENY_REASON_INPUT = 'reason_input';
/** The API's limit on reasons, so a Slack denial fits the same message. */
export const DENY_REASON_MAX = 500;
/** Slack refuses a text object over 3000 characters; escaping can grow user text. */
const TEXT_MAX = 2900;
const clip = (text: string) => (text.length > TEXT_MAX ? `${text.slice(0, TEXT_MAX)}…` : text);
/** mrkdwn that Slack shows as written: no auto-linked URLs, channels or @mentions in user text. */
export const mrkdwn = (text: string) => ({ type: 'mrkdwn', text: clip(text), verbatim: true });

/** Slack mrkdwn control characters; escaping them keeps user text from pinging @channel or faking links. */
export function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A time Slack renders in each reader's own time zone, with a UTC fallback. */
export function slackTime(iso: string): string {
  const epoch = Math.floor(Date.parse(iso) / 1000);
  const fallback = `${iso.slice(0, 16).replace('T', ' ')} UTC`;
  return `<!date^${epoch}^{date_short_pretty} {time}|${fallback}>`;
}

export function humanDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const parts = [h ? `${h}h` : '', m ? `${m}m` : '', s ? `${s}s` : ''].filter(Boolean);
  return parts.join(' ') || '0s';
}

export const person = (p: { sub: string; email?: string } | { by: string; email?: string }) =>
  escapeText(p.email ?? ('sub' in p ? p.sub : p.by));

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

const endLabel: Record<string, string> = {
  denied: 'Denied',
  cancelled: 'Cancelled',
  timed_out: 'Timed out',
  expired: 'Expired',
  revoked: 'Revoked',
  failed: 'Failed',
};

/** One line on where the grant stands, e.g. "Approvals so far: 1 of 2 (bob@…)". */
export function statusLine(card: GrantCard): string {
  const approvers = card.approvals.map(person).join(', ');
  switch (card.status) {
    case 'pending':
      return `:hourglass_flowing_sand: Waiting for approval: ${card.approvals.length} of ${card.requiredApprovals}${
        approvers ? ` (${approvers})` : ''
      }${card.escalatedAt ? ` · :rotating_light: escalated ${slackTime(card.escalatedAt)}` : ''}`;
    case 'active': {
      const by = approvers ? `Approved by ${approvers}` : card.breakGlass ? 'Break-glass' : 'Auto-approved';
      return `:white_check_mark: ${by}; active until ${card.expiresAt ? slackTime(card.expiresAt) : 'unknown'}`;
    }
    default: {
      const label = endLabel[card.status] ?? card.status;
      // A failure's reason is the AWS error text: for operators (audit trail), not for the channel.
      const reason = card.status === 'failed' ? 'credentials could not be issued' : (card.endReason ?? '');
      // "denied by X: why" already says what happened; other reasons get the label in front.
      const sentence = reason.toLowerCase().startsWith(`${label.toLowerCase()} by`)
        ? capitalize(reason)
        : `${label}${reason ? `: ${reason}` : ''}`;
      return `:no_entry_sign: ${escapeText(sentence)}`;
    }
  }
}

/** The channel message: who wants what and why, where it stands, and buttons while it is undecided. */
export function approvalMessage(card: GrantCard): { text: string; blocks: object[] } {
  const field = (label: string, value: string) => mrkdwn(`*${label}*\n${value}`);
  const blocks: object[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: `Access request: ${card.role.id}`.slice(0, 150) },
    },
    {
      type: 'section',
      fields: [
        field('Requester', person(card.requester)),
        field('Role', escapeText(card.role.id)),
        field('Account', escapeText(card.role.account ?? 'unknown')),
        field('Duration', humanDuration(card.duration)),
        field('Ticket', card.ticket ? escapeText(card.ticket) : '_none_'),
        field('Break-glass', card.breakGlass ? ':rotating_light: yes' : 'no'),
      ],
    },
    { type: 'section', text: mrkdwn(`*Reason*\n${escapeText(card.reason)}`) },
    { type: 'section', text: mrkdwn(statusLine(card)) },
  ];
  if (card.status === 'pending') {
    blocks.push({
      type: 'actions',
      block_id: 'decision',
      elements: [
        {
          type: 'button',
          action_id: APPROVE_ACTION,
          text: { type: 'plain_text', text: 'Approve' },
          style: 'primary',
          value: card.id,
        },
        {
          type: 'button',
          action_id: DENY_ACTION,
          text: { type: 'plain_text', text: 'Deny' },
          style: 'danger',
          value: card.id,
        },
      ],
    });
  }
  blocks.push({ type: 'context', elements: [mrkdwn(`Grant \`${card.id}\``)] });
  const text = `${person(card.requester)} asks for ${escapeText(card.role.id)} for ${humanDuration(card.duration)}: ${statusLine(card)}`;
  return { text, blocks };
}

/** The modal a reviewer fills in to deny; private metadata carries the grant and the message. */
export function denyModal(metadata: string): object {
  return {
    type: 'modal',
    callback_id: DENY_MODAL,
    private_metadata: metadata,
    title: { type: 'plain_text', text: 'Deny access request' },
    submit: { type: 'plain_text', text: 'Deny' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'input',
        block_id: DENY_REASON_BLOCK,
        label: { type: 'plain_text', text: 'Reason (the requester sees it)' },
        element: {
          type: 'plain_text_input',
          action_id: DENY_REASON_INPUT,
          multiline: true,
          min_length: 1,
          max_length: DENY_REASON_MAX,
        },
      },
    ],
  };
}

/** The requester's DM for each moment of their grant. */
export function requesterNotice(kind: RequesterNoticeKind, card: GrantCard, now = Date.now()): string {
  const role = `*${escapeText(card.role.id)}*`;
  const id = card.id;
  switch (kind) {
    case 'approved':
      return `:white_check_mark: Your request for ${role} was approved by ${card.approvals.map(person).join(', ')}.`;
    case 'denied':
      return `:no_entry_sign: Your request for ${role} was not granted. ${statusLine(card).replace(/^:\w+: /, '')}`;
    case 'timed_out':
      return (
        `:hourglass: Your request for ${role} timed out: no reviewer decided in time. To ask again: ` +
        `\`jit request ${card.role.id} --for ${humanDuration(card.duration).replace(/ /g, '')}` +
        `${card.ticket ? ` --ticket ${escapeText(card.ticket)}` : ''} --reason "..."\`` +
        ` (while it waits, \`jit nudge ID\` reminds the reviewers).`
      );
    case 'active':
      return (
        `:key: Your grant for ${role} is active until ${card.expiresAt ? slackTime(card.expiresAt) : 'unknown'}. ` +
        `Credentials: \`jit creds ${id}\`, console: \`jit console ${id} --open\`.`
      );
    case 'expiring': {
      const minutes = card.expiresAt
        ? Math.max(1, Math.round((Date.parse(card.expiresAt) - now) / 60_000))
        : 0;
      return (
        `:alarm_clock: Your grant for ${role} ends at ${card.expiresAt ? slackTime(card.expiresAt) : 'unknown'} ` +
        `(in about ${minutes} min). To extend it: \`jit extend ${id} --for 30m --reason "..."\`.`
      );
    }
    case 'ended':
      return `:lock: Your grant for ${role} has ended. ${statusLine(card).replace(/^:\w+: /, '')}`;
  }
}
