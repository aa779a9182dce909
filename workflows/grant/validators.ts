// The rules a decision must pass before it is accepted: pure functions of the grant's state, the
// verified claims and the arguments. A refusal throws (a stable code) and writes no history.
import type { AssertionClaims } from '../../common/assertion.js';
import { formatDuration } from '../../common/duration.js';
import type { GrantStatus, GrantView, OnBehalfOf, Principal } from '../../common/grant.js';
import type { GrantRejection, ReviewTarget } from '../../common/grant-messages.js';
import { samePerson } from '../../common/identity.js';

export class Refusal extends Error {
  override name = 'Refusal';
  constructor(
    readonly code: GrantRejection,
    message: string,
  ) {
    super(message);
  }
}
const refuse = (code: GrantRejection, message: string): never => {
  throw new Refusal(code, message);
};

/** What the rules read of a grant. */
export interface GrantFacts {
  decided: boolean;
  status: GrantStatus;
  requester: Principal;
  /** The person a workload asked for: they do not review it either. */
  onBehalfOf?: OnBehalfOf;
  view?: Pick<GrantView, 'approvals' | 'pendingExtension' | 'duration'>;
  extensionInFlight: boolean;
  maxTotalDurationSeconds: number;
}

/** What an approve or deny acts on: the request, or a pending extension of an active grant. */
export function reviewTarget(grant: GrantFacts, seen?: ReviewTarget): ReviewTarget {
  let target: ReviewTarget;
  if (grant.status === 'pending') {
    if (!grant.decided) refuse('grant_not_pending', 'policy evaluation is still running; try again');
    target = 'request';
  } else if (grant.status === 'active' && grant.view?.pendingExtension) {
    target = 'extension';
  } else {
    target = refuse('already_decided', `grant is ${grant.status}`);
  }
  if (seen && seen !== target) refuse('already_decided', 'the request this decision was for is decided');
  return target;
}

/** Reviewers are people other than the requester whom policy allows, each counted once. */
export function checkReviewer(grant: GrantFacts, claims: AssertionClaims, target: ReviewTarget): void {
  const by = claims.principal;
  if (by.kind === 'workload') refuse('not_eligible', 'workloads never review access');
  if (samePerson(by, grant.requester)) refuse('self_approval', 'you cannot review your own request');
  if (grant.onBehalfOf && samePerson(by, grant.onBehalfOf))
    refuse('self_approval', 'you cannot review a request made on your behalf');
  if (!claims.verdict.allowed) refuse('not_eligible', 'you are not an eligible reviewer for this role');
  const approvals =
    target === 'request' ? (grant.view?.approvals ?? []) : (grant.view?.pendingExtension?.approvals ?? []);
  if (approvals.some((a) => a.by === by.sub)) refuse('already_approved', 'you have already approved');
}

export function checkApprove(grant: GrantFacts, claims: AssertionClaims, seen?: ReviewTarget): ReviewTarget {
  const target = reviewTarget(grant, seen);
  checkReviewer(grant, claims, target);
  return target;
}

export function checkDeny(
  grant: GrantFacts,
  claims: AssertionClaims,
  reason: string,
  seen?: ReviewTarget,
): ReviewTarget {
  const target = reviewTarget(grant, seen);
  checkReviewer(grant, claims, target === 'request' ? 'request' : 'extension');
  if (!reason.trim()) refuse('invalid_argument', 'a reason is required to deny');
  return target;
}

export function checkRequester(grant: GrantFacts, claims: AssertionClaims, what: string): void {
  if (claims.principal.sub !== grant.requester.sub) refuse('not_requester', `only the requester can ${what}`);
}

/**
 * The requester withdraws a pending request; anyone else only with a signed allowing verdict (the
 * kill switch's Cedar `revokeAll`) and a reason.
 */
export function checkCancel(grant: GrantFacts, claims: AssertionClaims, reason?: string): void {
  if (claims.principal.sub !== grant.requester.sub) {
    if (!claims.verdict.allowed) refuse('not_requester', 'only the requester can cancel');
    if (!reason?.trim()) refuse('invalid_argument', "a reason is required to cancel someone else's request");
  }
  if (grant.status !== 'pending') refuse('grant_not_pending', `grant is ${grant.status}`);
}

export function checkRevoke(grant: GrantFacts, claims: AssertionClaims, reason: string): void {
  if (grant.status !== 'active') refuse('grant_not_active', `grant is ${grant.status}`);
  if (!claims.verdict.allowed) refuse('not_eligible', 'you may not revoke this grant');
  if (!reason.trim()) refuse('invalid_argument', 'a reason is required to revoke');
}

export function checkExtend(
  grant: GrantFacts,
  claims: AssertionClaims,
  durationSeconds: number,
  reason: string,
): void {
  if (grant.status !== 'active') refuse('grant_not_active', `grant is ${grant.status}`);
  checkRequester(grant, claims, 'extend');
  if (grant.view?.pendingExtension || grant.extensionInFlight)
    refuse('extension_pending', 'an extension is already waiting for a decision');
  if (!Number.isSafeInteger(durationSeconds) || durationSeconds <= 0)
    refuse('invalid_argument', 'duration must be a positive number of seconds');
  if (!reason.trim()) refuse('invalid_argument', 'a reason is required to extend');
  checkCap(grant, durationSeconds);
  if (!claims.verdict.allowed) refuse('not_eligible', 'policy does not allow this extension');
}

/** The role's cap on a grant's total time, extensions included. */
export function checkCap(grant: GrantFacts, durationSeconds: number): void {
  const granted = grant.view?.duration ?? 0;
  if (granted + durationSeconds > grant.maxTotalDurationSeconds) {
    refuse(
      'extension_exceeds_cap',
      `the role allows at most ${formatDuration(grant.maxTotalDurationSeconds)} in total; ` +
        `this grant has ${formatDuration(granted)}`,
    );
  }
}

export function checkIssueCredentials(grant: GrantFacts, claims: AssertionClaims): void {
  if (grant.status !== 'active') refuse('grant_not_active', `grant is ${grant.status}`);
  checkRequester(grant, claims, 'get credentials');
}
