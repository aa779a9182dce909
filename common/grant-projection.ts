// The grant view as a fold of the grant's audit events. One function serves both sides: the grant
// workflow folds its own events to answer decisions, and the audit store folds the same events,
// in the same transaction as it appends them, into the grants read model. So what a decision
// returns and what a later read shows come from one rule, and replaying the audit trail from the
// start rebuilds the read model exactly. Pure: it runs in the workflow sandbox too.
import { foldFollowUp } from './approval-follow-up.js';
import type { AuditEventInput, GrantEventData, GrantEventType } from './audit-event.js';
import { foldReview, isReviewEvent } from './breakglass-review.js';
import type { EndedStatus, GrantView, TimelineEntry } from './grant.js';

/** An event as the projection reads it: stored rows give `actorEmail` as null. */
export type ProjectedEvent = Pick<
  AuditEventInput,
  'grantId' | 'type' | 'actor' | 'roleId' | 'requester' | 'occurredAt' | 'data'
> & { actorEmail?: string | null };

const endStatusOf: Partial<Record<string, EndedStatus>> = {
  'grant.denied': 'denied',
  'grant.cancelled': 'cancelled',
  'grant.timed_out': 'timed_out',
  'grant.expired': 'expired',
  'grant.revoked': 'revoked',
  'grant.failed': 'failed',
};

/** Timeline entry type of each event (the grant.* prefix dropped, approvals said plainly). */
const timelineType: Partial<Record<string, string>> = {
  'grant.requested': 'requested',
  'grant.approval_recorded': 'approved',
  'grant.activated': 'activated',
  'grant.credentials_issued': 'credentials_issued',
  'grant.extension_requested': 'extension_requested',
  'grant.extension_denied': 'extension_denied',
  'grant.extension_timed_out': 'extension_timed_out',
  'grant.extended': 'extended',
  'grant.denied': 'denied',
  'grant.cancelled': 'cancelled',
  'grant.timed_out': 'timed_out',
  'grant.expired': 'expired',
  'grant.revoked': 'revoked',
  'grant.failed': 'failed',
  'grant.reminder_sent': 'reminded',
  'grant.escalated': 'escalated',
  'grant.nudged': 'nudged',
  'grant.review_opened': 'review_opened',
  'grant.review_escalated': 'review_escalated',
  'grant.review_acknowledged': 'review_acknowledged',
  'grant.review_flagged': 'review_flagged',
};

export const isEndEvent = (type: string): boolean => endStatusOf[type] !== undefined;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];

/**
 * The view after `event`. `view` is the grant's view before it (undefined for the first event);
 * never mutated. Events that are not about a grant, or that come before its `grant.requested`,
 * leave it as it is.
 */
export function projectGrant(view: GrantView | undefined, event: ProjectedEvent): GrantView | undefined {
  const type = event.type as GrantEventType;
  const d = event.data as Partial<GrantEventData[typeof type]> & Record<string, unknown>;
  const at = event.occurredAt;
  const by = event.actor;
  const email = event.actorEmail ?? undefined;

  if (type === 'grant.requested') {
    if (view) return view;
    const role = d.role as { arn?: unknown; account?: unknown } | undefined;
    const ticket = str(d.ticket);
    const forPerson = d.onBehalfOf as { sub?: unknown; email?: unknown } | undefined;
    const execution = d.stepFunctions as { executionArn?: unknown; stateName?: unknown } | undefined;
    const next: GrantView = {
      id: event.grantId,
      status: 'pending',
      requester: {
        sub: event.requester,
        ...(email && by === event.requester ? { email } : {}),
        ...(d.actorKind === 'workload' ? { kind: 'workload' as const } : {}),
      },
      ...(str(forPerson?.sub)
        ? {
            onBehalfOf: {
              sub: str(forPerson?.sub) as string,
              ...(str(forPerson?.email) ? { email: str(forPerson?.email) } : {}),
            },
          }
        : {}),
      ...(str(execution?.executionArn)
        ? {
            stepFunctions: {
              executionArn: str(execution?.executionArn) as string,
              ...(str(execution?.stateName) ? { stateName: str(execution?.stateName) } : {}),
            },
          }
        : {}),
      role: {
        id: event.roleId,
        ...(str(role?.arn) ? { arn: str(role?.arn) } : {}),
        ...(str(role?.account) ? { account: str(role?.account) } : {}),
      },
      duration: num(d.durationSeconds) ?? 0,
      reason: str(d.reason) ?? '',
      ...(ticket ? { ticket } : {}),
      breakGlass: d.breakGlass === true,
      approvals: [],
      requiredApprovals: num(d.requiredApprovals) ?? 0,
      createdAt: at,
      sessions: [],
      policyIds: strings(d.policyIds),
      timeline: [],
    };
    return withTimeline(next, event);
  }
  if (!view) return undefined;
  // A break-glass grant's review goes on after the grant has ended.
  if (isReviewEvent(type)) {
    const review = foldReview(view.review, event);
    return review === view.review ? view : withTimeline({ ...view, ...(review ? { review } : {}) }, event);
  }
  if (view.endedAt && !isEndEvent(type)) return view; // nothing moves an ended grant
  const next: GrantView = { ...view };

  switch (type) {
    case 'grant.approval_recorded': {
      const approval = {
        by,
        ...(email ? { email } : {}),
        at,
        ...(str(d.comment) ? { comment: str(d.comment) } : {}),
        policyIds: strings(d.policyIds),
      };
      if (d.extension === true) {
        if (next.pendingExtension) {
          next.pendingExtension = {
            ...next.pendingExtension,
            approvals: [...next.pendingExtension.approvals, approval],
          };
        }
      } else {
        next.approvals = [...next.approvals, approval];
      }
      break;
    }
    case 'grant.activated':
      next.status = 'active';
      next.activatedAt = at;
      if (str(d.expiresAt)) next.expiresAt = str(d.expiresAt);
      break;
    case 'grant.credentials_issued':
      next.sessions = [
        ...next.sessions,
        {
          accessKeyId: str(d.accessKeyId) ?? '',
          sessionName: str(d.sessionName) ?? '',
          expiresAt: str(d.expiresAt) ?? '',
          issuedAt: at,
          ...(str(d.sourceIdentity) ? { sourceIdentity: str(d.sourceIdentity) } : {}),
        },
      ];
      break;
    case 'grant.extension_requested':
      if (d.autoApproved !== true) {
        next.pendingExtension = {
          durationSeconds: num(d.durationSeconds) ?? 0,
          reason: str(d.reason) ?? '',
          requestedAt: at,
          requiredApprovals: num(d.requiredApprovals) ?? 1,
          approvals: [],
        };
      }
      break;
    case 'grant.extension_denied':
    case 'grant.extension_timed_out':
      next.pendingExtension = undefined;
      break;
    case 'grant.reminder_sent':
    case 'grant.escalated':
    case 'grant.nudged':
      next.followUp = foldFollowUp(view.followUp, event);
      break;
    case 'grant.extended':
      next.duration = view.duration + (num(d.durationSeconds) ?? 0);
      if (str(d.expiresAt)) next.expiresAt = str(d.expiresAt);
      next.pendingExtension = undefined;
      next.extensions = (view.extensions ?? 0) + 1;
      break;
    default: {
      const ended = endStatusOf[type];
      if (!ended) return view;
      if (view.endedAt) return view; // the first end wins
      next.status = ended;
      next.endedAt = at;
      next.endedBy = by;
      if (str(d.reason)) next.endReason = str(d.reason);
      next.pendingExtension = undefined;
    }
  }
  if (next.pendingExtension === undefined) delete next.pendingExtension;
  return withTimeline(next, event);
}

function withTimeline(view: GrantView, event: ProjectedEvent): GrantView {
  const type = timelineType[event.type];
  if (!type) return view;
  const d = event.data;
  const detail =
    event.type === 'grant.credentials_issued'
      ? str(d.sessionName)
      : event.type === 'grant.approval_recorded' || isReviewEvent(event.type)
        ? str(d.comment)
        : event.type === 'grant.escalated'
          ? str(d.group) && `group ${str(d.group)} may approve too`
          : event.type === 'grant.activated'
            ? d.breakGlass === true
              ? 'break-glass: flagged for post-hoc review'
              : undefined
            : str(d.reason);
  const entry: TimelineEntry = { at: event.occurredAt, type, by: event.actor, ...(detail ? { detail } : {}) };
  return { ...view, timeline: [...view.timeline, entry] };
}

/** Folds a grant's events, in chain order. */
export function foldGrant(events: Iterable<ProjectedEvent>): GrantView | undefined {
  let view: GrantView | undefined;
  for (const event of events) view = projectGrant(view, event);
  return view;
}
