// The API's grant shapes (api/schemas.ts) as the CLI reads them, and how a person sees them.

// Type-only: the CLI reads the API's JSON, which has exactly these shapes.
import { endedStatuses as endedStatusList, type GrantListItem, type GrantView } from '../common/grant.js';
import { formatDuration, humanizeSeconds, out, paint, relativeTime, status, table } from './output.js';

export type { Approval, GrantListItem, GrantView } from '../common/grant.js';

export const endedStatuses = new Set<string>(endedStatusList);

/** One line: where the grant stands, e.g. "pending: approvals 1 of 2". */
export function progress(view: GrantView): string {
  switch (view.status) {
    case 'pending':
      return `pending: approvals ${view.approvals.length} of ${view.requiredApprovals}`;
    case 'active':
      return `active, expires ${relativeTime(view.expiresAt)}${
        view.pendingExtension
          ? `; extension pending (approvals ${view.pendingExtension.approvals.length} of ${view.pendingExtension.requiredApprovals})`
          : ''
      }`;
    default:
      // The workflow's end reasons mostly say it all already ("denied by bob@...: too broad").
      if (!view.endReason) return view.status;
      return humanizeSeconds(
        view.endReason.startsWith(view.status) ? view.endReason : `${view.status}: ${view.endReason}`,
      );
  }
}

export function printGrant(view: GrantView): void {
  const rows: [string, string | undefined][] = [
    [
      'status',
      `${status(view.status)}${view.status === 'pending' ? ` (approvals ${view.approvals.length} of ${view.requiredApprovals})` : ''}`,
    ],
    ['role', view.role.id + (view.breakGlass ? paint('red', ' (break-glass)') : '')],
    ['requester', view.requester.email ?? view.requester.sub],
    ['reason', view.reason],
    ['ticket', view.ticket],
    ['duration', formatDuration(view.duration)],
    ['created', relativeTime(view.createdAt)],
    ['activated', view.activatedAt && relativeTime(view.activatedAt)],
    ['expires', view.expiresAt && relativeTime(view.expiresAt)],
    ['ended', view.endedAt && `${relativeTime(view.endedAt)}${view.endedBy ? ` by ${view.endedBy}` : ''}`],
    ['end reason', view.endReason && humanizeSeconds(view.endReason)],
    ['review', view.review && reviewLine(view.review)],
  ];
  out(paint('bold', view.id));
  for (const [label, value] of rows) if (value) out(`  ${label.padEnd(10)}  ${value}`);
  for (const a of view.approvals) {
    out(
      `  ${'approved'.padEnd(10)}  ${a.email ?? a.by} ${relativeTime(a.at)}${a.comment ? `: ${a.comment}` : ''}`,
    );
  }
  if (view.pendingExtension) {
    const ext = view.pendingExtension;
    out(
      `  ${'extension'.padEnd(10)}  +${formatDuration(ext.durationSeconds)} pending, approvals ${ext.approvals.length} of ${ext.requiredApprovals}: ${ext.reason}`,
    );
  }
}

/** When an active grant ends; nothing for one that has not started or has already ended. */
export const expiresColumn = (g: GrantListItem) =>
  g.status === 'active' && g.expiresAt ? relativeTime(g.expiresAt) : '-';

/** The post-hoc review of a break-glass grant, in one line. */
function reviewLine(review: NonNullable<GrantView['review']>): string {
  if (review.status === 'open') {
    const escalated = review.escalations > 0 ? `, escalated ${review.escalations}x` : '';
    return `open, due ${relativeTime(review.deadline)}${escalated}`;
  }
  const late = review.onTime === false ? ' (late)' : '';
  const comment = review.comment ? `: ${review.comment}` : '';
  return `${review.outcome} by ${review.reviewerEmail ?? review.reviewer}${late}${comment}`;
}

export function printGrantList(grants: GrantListItem[], empty = 'no grants'): void {
  if (grants.length === 0) {
    out(empty);
    return;
  }
  table(
    ['ID', 'ROLE', 'STATUS', 'REQUESTER', 'CREATED', 'EXPIRES'],
    grants.map((g) => [
      g.id,
      g.role.id,
      status(g.status),
      g.requester.email ?? g.requester.sub,
      relativeTime(g.createdAt),
      expiresColumn(g),
    ]),
  );
}
