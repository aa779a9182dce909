// How grants read for people: status lines, durations, event names and role limits, in words.
// Times stay ISO 8601 here; pages print them in UTC and the browser rewrites them in the reader's
// zone (assets/console.js).
import type { GrantListItem, GrantStatus, RoleView } from '../../common/grant.js';
import { workloadNameOf } from '../../common/identity.js';

export type Tone = 'pending' | 'active' | 'ended' | 'refused';

/** One line about where a grant stands: "Active until 14:05", "Pending: 1 of 2 approvals". */
export interface StatusLine {
  label: string;
  tone: Tone;
  /** A time after the label: "until <time>", "at <time>". */
  time?: { prefix: string; iso: string };
  detail?: string;
}

const endedLabel: Record<Exclude<GrantStatus, 'pending' | 'active'>, [string, Tone]> = {
  expired: ['Expired', 'ended'],
  revoked: ['Revoked', 'ended'],
  cancelled: ['Cancelled', 'ended'],
  denied: ['Denied', 'refused'],
  timed_out: ['Timed out', 'refused'],
  failed: ['Failed', 'refused'],
};

export function statusLine(view: GrantListItem, me?: string): StatusLine {
  if (view.status === 'pending') {
    const by = view.approvals.map((a) => who(a.by, a.email, me));
    return {
      label: 'Pending',
      tone: 'pending',
      detail: `${view.approvals.length} of ${view.requiredApprovals} approvals${by.length ? ` (${by.join(', ')})` : ''}`,
    };
  }
  if (view.status === 'active') {
    const extension = view.pendingExtension;
    return {
      label: 'Active',
      tone: 'active',
      ...(view.expiresAt ? { time: { prefix: 'until', iso: view.expiresAt } } : {}),
      ...(extension
        ? {
            detail: `extension of ${duration(extension.durationSeconds)} waiting: ${extension.approvals.length} of ${extension.requiredApprovals} approvals`,
          }
        : {}),
    };
  }
  const [label, tone] = endedLabel[view.status];
  const by = view.endedBy && view.endedBy !== 'system' ? `by ${endedBy(view, me)}` : '';
  const why = reasonOnly(view.endReason);
  const reason = why ? `: ${why}` : '';
  const detail =
    view.status === 'timed_out'
      ? 'no decision in time'
      : view.status === 'expired'
        ? ''
        : `${by}${reason}`.replace(/^: /, '');
  return {
    label,
    tone,
    ...(view.endedAt ? { time: { prefix: 'at', iso: view.endedAt } } : {}),
    ...(detail ? { detail } : {}),
  };
}

/**
 * Someone named in a grant (timeline entries carry subjects only): "you", "the broker", or their
 * email when the grant knows it (requester, approvers), else their subject.
 */
export function person(view: GrantListItem, sub: string, me?: string): string {
  if (sub === 'system') return 'the broker';
  const approvals = [...view.approvals, ...(view.pendingExtension?.approvals ?? [])];
  const email =
    sub === view.requester.sub ? view.requester.email : approvals.find((a) => a.by === sub)?.email;
  return who(sub, email, me);
}

/** Who ended the grant; the workflow's phrasing of the end reason names them when the grant does not. */
export function endedBy(view: GrantListItem, me?: string): string {
  const sub = view.endedBy ?? '';
  const named = person(view, sub, me);
  if (named !== sub) return named;
  return /^(?:denied|revoked|cancelled) by ([^:]+):/.exec(view.endReason ?? '')?.[1] ?? named;
}

/**
 * The reason someone gave, from an end reason or timeline detail the workflow phrased as
 * "revoked by <who>: <reason>" (the page names who itself).
 */
export function reasonOnly(text: string | undefined): string {
  return (text ?? '').replace(/^(?:denied|revoked|cancelled) by [^:]*(?::\s*|$)/, '');
}

/** "you", or the person's email, else their subject. */
export function who(sub: string, email?: string, me?: string): string {
  if (me !== undefined && sub === me) return 'you';
  return email ?? sub;
}

/** Who asked: a person, or a workload by its catalog name, and for whom it asked. */
export function requester(view: GrantListItem, me?: string): string {
  const workload = view.requester.kind === 'workload' ? workloadNameOf(view.requester.sub) : undefined;
  const asker = workload
    ? `${workload} (workload)`
    : `${who(view.requester.sub, view.requester.email, me)}${view.requester.kind === 'workload' ? ' (workload)' : ''}`;
  const behalf = view.onBehalfOf;
  return behalf ? `${asker} on behalf of ${who(behalf.sub, behalf.email, me)}` : asker;
}

/** Where a break-glass grant's post-hoc review stands; undefined for other grants. */
export interface ReviewLine {
  label: string;
  tone: Tone;
  time?: { prefix: string; iso: string };
  detail?: string;
  /** Open past its deadline. */
  overdue: boolean;
}

export function reviewLine(view: GrantListItem, me?: string, now = Date.now()): ReviewLine | undefined {
  if (!view.breakGlass) return undefined;
  const r = view.review;
  // Opens when the grant activates, a moment after; a grant refused before that has none.
  if (!r) return { label: 'Review not open yet', tone: 'pending', overdue: false };
  if (r.status === 'open') {
    const overdue = Date.parse(r.deadline) < now;
    const escalated = r.escalations
      ? `escalated ${r.escalations} time${r.escalations === 1 ? '' : 's'}`
      : undefined;
    return {
      label: overdue ? 'Review overdue' : 'Review open',
      tone: overdue ? 'refused' : 'pending',
      time: { prefix: overdue ? 'was due' : 'due', iso: r.deadline },
      ...(escalated ? { detail: escalated } : {}),
      overdue,
    };
  }
  const by = r.reviewer ? ` by ${who(r.reviewer, r.reviewerEmail, me)}` : '';
  const when = r.onTime === undefined ? '' : r.onTime ? ', on time' : ', late';
  return {
    label: r.outcome === 'flagged' ? 'Flagged' : 'Acknowledged',
    tone: r.outcome === 'flagged' ? 'refused' : 'active',
    ...(r.decidedAt ? { time: { prefix: 'at', iso: r.decidedAt } } : {}),
    detail: `${by}${when}`.replace(/^ /, '').replace(/^, /, ''),
    overdue: false,
  };
}

/** "1 h 30 min", "45 min", "2 h", "30 s". */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds <= 0) return '0 min';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  const parts = [h ? `${h} h` : '', m ? `${m} min` : '', !h && !m && s ? `${s} s` : ''];
  return parts.filter(Boolean).join(' ') || '0 min';
}

/** The fallback text of a <time>: UTC, minute precision; the browser shows local time. */
export function utc(iso: string | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

const eventLabels: Record<string, string> = {
  requested: 'Requested',
  approved: 'Approved',
  activated: 'Active',
  credentials_issued: 'Credentials issued',
  extension_requested: 'Extension requested',
  extension_denied: 'Extension denied',
  extension_timed_out: 'Extension timed out',
  extended: 'Extended',
  denied: 'Denied',
  cancelled: 'Cancelled',
  timed_out: 'Timed out',
  expired: 'Expired',
  revoked: 'Revoked',
  failed: 'Failed',
};

/** A timeline entry or audit event type in words: `grant.approval_recorded` → "Approval recorded". */
export function eventLabel(type: string): string {
  const known = eventLabels[type];
  if (known) return known;
  const bare = type.replace(/^(grant|ledger)\./, '').replaceAll('_', ' ');
  return bare.charAt(0).toUpperCase() + bare.slice(1);
}

/** What a request for this role takes, in words. */
export function roleNeeds(role: RoleView): string {
  if (role.breakGlass) return 'Immediate, no approval: break-glass, reviewed after the fact';
  const auto =
    role.autoApproveMaxSeconds > 0
      ? role.autoApproveMaxSeconds >= role.maxDurationSeconds
        ? 'No approval needed'
        : `No approval up to ${duration(role.autoApproveMaxSeconds)}`
      : '';
  const approvals =
    role.approvalsRequired > 0
      ? `${role.approvalsRequired} approval${role.approvalsRequired === 1 ? '' : 's'} from reviewers`
      : '';
  if (auto === 'No approval needed') return auto;
  return [auto, auto && approvals ? `then ${approvals}` : approvals].filter(Boolean).join(', ');
}

/** Helpers the templates call. */
export const viewHelpers = {
  statusLine,
  reviewLine,
  requester,
  who,
  person,
  endedBy,
  reasonOnly,
  duration,
  utc,
  eventLabel,
  roleNeeds,
};
export type ViewHelpers = typeof viewHelpers;
