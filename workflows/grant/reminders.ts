// A request waiting for approval is not left to time out in silence: on its role's schedule
// (catalog: remindAfter, maxReminders, escalateAfter, escalationChannel, escalationGroup) the
// reviewers who have not acted are reminded, then the request escalates once, optionally widening
// who may approve to an escalation group (Cedar decides, at the front door). The requester may
// nudge, at most once per nudgeInterval. Everything stops the moment the request is decided.
import { condition } from '@temporalio/workflow';
import type { FollowUpPlan } from '../../common/approval-follow-up.js';
import type { AssertionClaims } from '../../common/assertion.js';
import { formatDuration } from '../../common/duration.js';
import type { Notifications } from './notifications.js';
import { type GrantState, iso } from './state.js';
import { checkRequester, type GrantFacts, Refusal } from './validators.js';

const DEFAULT_NUDGE_INTERVAL_SECONDS = 1800;

const waiting = (grant: GrantState) => grant.status === 'pending' && !grant.approvalsMet;

/** Runs beside the approval wait (lifecycle.ts) and returns once the request is decided or nothing is left to do. */
export async function followUpApprovals(grant: GrantState, notify: Notifications): Promise<void> {
  const plan = grant.role?.followUp;
  if (!plan) return;
  const since = Date.parse(grant.view.createdAt);
  let reminded = 0;
  let escalated = false;
  for (;;) {
    const remindAt =
      plan.remindAfterSeconds && reminded < plan.maxReminders
        ? since + (reminded + 1) * plan.remindAfterSeconds * 1000
        : Infinity;
    const escalateAt =
      plan.escalateAfterSeconds && !escalated ? since + plan.escalateAfterSeconds * 1000 : Infinity;
    const next = Math.min(remindAt, escalateAt);
    if (next === Infinity) return;
    await condition(() => !waiting(grant), Math.max(next - Date.now(), 1));
    if (!waiting(grant)) return;
    const now = Date.now();
    const escalatingNow = now >= escalateAt;
    if (escalatingNow) {
      escalated = true;
      grant.record('grant.escalated', 'system', {
        afterSeconds: plan.escalateAfterSeconds ?? 0,
        ...(plan.escalationChannel ? { channel: plan.escalationChannel } : {}),
        ...(plan.escalationGroup ? { group: plan.escalationGroup } : {}),
      });
      notify.refresh();
      notify.escalate(plan.escalationChannel);
      notify.remindReviewers({ type: 'escalation' });
    }
    if (now >= remindAt) {
      reminded += 1;
      grant.record('grant.reminder_sent', 'system', { reminder: reminded, of: plan.maxReminders });
      // Falling due with the escalation, its message and DMs already said it.
      if (!escalatingNow)
        notify.remindReviewers({ type: 'reminder', reminder: reminded, of: plan.maxReminders });
    }
  }
}

/** Only the requester nudges, only a pending request, at most once per the role's nudgeInterval. */
export function checkNudge(
  grant: GrantFacts,
  claims: AssertionClaims,
  plan: FollowUpPlan | undefined,
  lastNudgedAt: string | undefined,
  now: number,
): void {
  checkRequester(grant, claims, 'nudge the reviewers');
  if (grant.status !== 'pending' || !grant.decided)
    throw new Refusal('grant_not_pending', `grant is ${grant.status}`);
  // A role recorded without follow-up settings gets the catalog's default.
  const interval = (plan?.nudgeIntervalSeconds ?? DEFAULT_NUDGE_INTERVAL_SECONDS) * 1000;
  if (lastNudgedAt && now < Date.parse(lastNudgedAt) + interval) {
    const nextAt = iso(Date.parse(lastNudgedAt) + interval);
    throw new Refusal(
      'rate_limited',
      `you nudged the reviewers at ${lastNudgedAt}; once per ${formatDuration(interval / 1000)}, next after ${nextAt}`,
    );
  }
}

/** A nudge: recorded, then the reviewers who have not acted hear about the request again. */
export function nudge(grant: GrantState, notify: Notifications, claims: AssertionClaims): void {
  grant.record(
    'grant.nudged',
    { sub: claims.principal.sub, ...(claims.principal.email ? { email: claims.principal.email } : {}) },
    { door: claims.door },
  );
  notify.remindReviewers({ type: 'nudge' });
}
