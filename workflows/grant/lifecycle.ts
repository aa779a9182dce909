// The grant lifecycle, one workflow per request:
//
//   evaluate policy -> await approvals -> activate -> run until the end -> settle
//
// Decisions arrive as Updates (handlers.ts) checked by pure rules (validators.ts); every transition
// is recorded once through GrantState (state.ts). Deterministic: time is workflow time, and every
// side effect is an activity (activities.ts).
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  patched,
  workflowInfo,
} from '@temporalio/workflow';
import type { PolicyOutcome } from '../../common/activities.js';
import {
  type AssertionClaims,
  AssertionError,
  readVerifiedClaims,
  START_UPDATE_ID,
  verifyAssertion,
} from '../../common/assertion.js';
import type { GrantView } from '../../common/grant.js';
import type { GrantStart } from '../../common/grant-messages.js';
import { isRefusedPayload } from '../../common/refused-payload.js';
import { verificationKeys } from '../assertion-keys.js';
import { openBreakGlassReview } from '../breakglass-review/open.js';
import { coverSessions, evaluateGrantRequest } from './activities.js';
import { followStepFunctions, type StepFunctionsHandoff } from './callbacks.js';
import { registerHandlers } from './handlers.js';
import { Notifications, REMIND_BEFORE_MS } from './notifications.js';
import { followUpApprovals } from './reminders.js';
import { GrantState } from './state.js';
import { grantWorkflowV1 } from './v1.js';
import type { GrantRequest as V1GrantRequest } from './v1-contract.js';

/** Grants started from this release on carry signed assertions and write the read model. */
export const SIGNED_GRANTS_PATCH = 'signed-assertions-read-model';

export async function grantWorkflow(input: GrantStart | V1GrantRequest): Promise<GrantView> {
  if (!patched(SIGNED_GRANTS_PATCH)) return (await grantWorkflowV1(input as V1GrantRequest)) as GrantView;
  const start = input as GrantStart;
  const claims = startClaims(start);
  const grant = new GrantState(start, claims);
  const notify = new Notifications(grant);
  registerHandlers(grant, notify);

  // 1. Evaluate policy: the front door's verdict and the workflow's own evaluation must both allow.
  // The Step Functions task (its token) is not policy input.
  const { stepFunctions: _task, ...policyInput } = start.request;
  const outcome: PolicyOutcome & { failed?: boolean } = await evaluateGrantRequest({
    requester: grant.requester,
    ...policyInput,
  }).catch((err: unknown) => policyFailure(err));
  grant.recordDecision(outcome, claims);
  notify.requestPosted();
  const handoff = followStepFunctions(grant);
  const { decision } = outcome;
  if (outcome.failed) {
    grant.end('failed', `policy evaluation failed: ${decision.reasons.join('; ')}`, 'system');
  } else if (!decision.allowed || !claims.verdict.allowed || !outcome.role) {
    grant.end('denied', `policy: ${decision.reasons.join('; ') || 'not allowed'}`, 'system');
  } else if (!grant.approvalsMet) {
    // 2. Await approvals (handlers.ts records them) until the approval timeout.
    grant.answerableAt = grant.recordedSeq;
    void followUpApprovals(grant, notify);
    const inTime = await condition(
      () => grant.status !== 'pending' || grant.approvalsMet,
      decision.approvalTimeoutSeconds * 1000,
    );
    if (!inTime) grant.end('timed_out', `no decision within ${decision.approvalTimeoutSeconds}s`, 'system');
  }

  // 3. Activate: the clock starts now, not at the request.
  if (grant.status === 'pending') {
    grant.activate();
    grant.answerableAt ??= grant.recordedSeq;
    notify.refresh();
    if (grant.view.approvals.length > 0) notify.tellRequester('approved');
    notify.tellRequester('active');
    // Break-glass: the post-hoc review opens now, as a workflow of its own that outlives the grant.
    await openBreakGlassReview(grant, notify.card());
    // 4. Run until the end: the expiry timer, extensions and their deadline, the reminder.
    await runUntilEnd(grant, notify);
  }

  // 5. Settle: sessions that outlive the grant go to the role's revocation ledger, then the end is recorded.
  await settle(grant, notify, handoff);
  return grant.view;
}

/** The start's assertion, verified live; on replay it was verified when the grant started. */
function startClaims(start: GrantStart): AssertionClaims {
  if (isRefusedPayload(start))
    throw ApplicationFailure.nonRetryable(
      'the start was not encrypted with the broker key',
      'payload_not_encrypted',
    );
  if (workflowInfo().unsafe.isReplaying) return readVerifiedClaims(start.assertion);
  try {
    return verifyAssertion(start.assertion, verificationKeys(), {
      grantId: workflowInfo().workflowId,
      action: 'request',
      updateId: START_UPDATE_ID,
      args: start as unknown as Record<string, unknown>,
      now: workflowInfo().startTime.getTime(),
    });
  } catch (err) {
    // Nothing recorded, nothing issued: the start was not a front door's.
    if (err instanceof AssertionError) throw ApplicationFailure.nonRetryable(err.message, err.code);
    throw err;
  }
}

async function runUntilEnd(grant: GrantState, notify: Notifications): Promise<void> {
  // A grant shorter than the reminder lead needs no reminder: the 'active' DM says when it ends.
  let remindedFor = grant.view.duration * 1000 <= REMIND_BEFORE_MS ? grant.view.expiresAt : undefined;
  while (grant.status === 'active') {
    const view = grant.view;
    const armedExpiry = view.expiresAt as string;
    const armedExtension = view.pendingExtension;
    const remindAt =
      grant.slack && remindedFor !== armedExpiry ? Date.parse(armedExpiry) - REMIND_BEFORE_MS : Infinity;
    const wakeAt = Math.min(
      Date.parse(armedExpiry),
      armedExtension ? grant.extensionDeadline : Infinity,
      remindAt,
    );
    await condition(
      () =>
        grant.status !== 'active' ||
        grant.view.expiresAt !== armedExpiry ||
        grant.view.pendingExtension !== armedExtension,
      Math.max(wakeAt - Date.now(), 1),
    );
    if (grant.status !== 'active') break;
    const pending = grant.view.pendingExtension;
    if (pending && pending === armedExtension && Date.now() >= grant.extensionDeadline) {
      grant.record('grant.extension_timed_out', 'system', { durationSeconds: pending.durationSeconds });
    }
    if (Date.now() >= Date.parse(grant.view.expiresAt as string)) {
      grant.end('expired', 'the granted time is up', 'system');
    } else if (
      grant.view.expiresAt === armedExpiry &&
      remindedFor !== armedExpiry &&
      Date.now() >= remindAt
    ) {
      remindedFor = armedExpiry;
      notify.tellRequester('expiring');
    }
  }
}

async function settle(
  grant: GrantState,
  notify: Notifications,
  handoff?: StepFunctionsHandoff,
): Promise<void> {
  await condition(() => grant.issuing === 0);
  const endedAt = Date.now();
  const live = grant.sessions.filter((s) => Date.parse(s.expiresAt) > endedAt);
  if (live.length > 0 && grant.role) {
    await coverSessions({
      roleArn: grant.role.arn,
      entries: live.map((s) => ({
        grantId: grant.id,
        assumedRoleId: s.assumedRoleId,
        expiresAt: s.expiresAt,
      })),
    });
  }
  const wasActive = grant.decided && grant.view.activatedAt !== undefined;
  const status = grant.status;
  grant.recordEnd(live.map((s) => s.sessionName));
  grant.answerableAt ??= grant.recordedSeq;
  await grant.flushed();
  notify.refresh();
  if (wasActive) notify.tellRequester('ended');
  else if (grant.decision?.allowed && (status === 'denied' || status === 'timed_out'))
    notify.tellRequester(status === 'timed_out' ? 'timed_out' : 'denied');
  await notify.drained();
  await handoff?.finished();
  await condition(allHandlersFinished);
}

/** A policy step that failed (bad input, a broken engine) refuses the grant; it is recorded as failed. */
function policyFailure(err: unknown): PolicyOutcome & { failed: true } {
  if (!(err instanceof ActivityFailure)) throw err;
  return {
    failed: true,
    decision: {
      allowed: false,
      autoApproved: false,
      breakGlass: false,
      approvalsRequired: 0,
      reviewerGroups: [],
      approvalTimeoutSeconds: 0,
      policyIds: [],
      reasons: [err.cause?.message ?? err.message],
    },
  };
}
