// The post-hoc review of a break-glass grant, one workflow per grant (`review-<grant id>`), started
// by the grant when it activates and living on after the grant ends (parent close policy ABANDON):
//
//   open (deadline) -> escalate at the deadline, then on a schedule -> acknowledged | flagged
//
// It stays open until a reviewer decides; nothing closes it by itself. Each escalation adds a few
// dozen history events, so a review left open for weeks continues as new when Temporal suggests it.
// Decisions are Updates carrying a front door's signed assertion for action `review` on the grant,
// verified here.
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  currentUpdateInfo,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { AssertionError, readVerifiedClaims, verifyAssertion } from '../../common/assertion.js';
import type { ReviewView } from '../../common/breakglass-review.js';
import {
  decideReviewUpdate,
  type ReviewDecisionArgs,
  type ReviewStart,
  reviewViewQuery,
} from '../../common/review-messages.js';
import { verificationKeys } from '../assertion-keys.js';
import { iso, reject } from '../grant/state.js';
import { Refusal } from '../grant/validators.js';
import { ReviewMessages } from './messages.js';
import { checkReviewDecision } from './rules.js';
import { ReviewState } from './state.js';

export async function breakglassReviewWorkflow(start: ReviewStart): Promise<ReviewView> {
  const state = new ReviewState(start);
  const slack = new ReviewMessages(state);
  registerDecision(state, slack);

  const everyMs = start.plan.escalateEverySeconds * 1000;
  if (!start.resume) {
    state.record('grant.review_opened', 'system', {
      deadline: iso(Date.now() + start.plan.deadlineSeconds * 1000),
      reviewerGroups: start.reviewerGroups,
      escalateEverySeconds: start.plan.escalateEverySeconds,
    });
    slack.opened();
  }

  // Past the deadline it escalates, then again every escalateEvery, until someone decides.
  let escalations = state.view.escalations;
  while (state.open) {
    if (workflowInfo().continueAsNewSuggested) await continueIfOpen(state, slack);
    const dueAt = state.deadlineMs + escalations * everyMs;
    await condition(() => !state.open, Math.max(dueAt - Date.now(), 1));
    if (!state.open) break;
    escalations += 1;
    const channel = start.plan.escalationChannel ?? start.slack?.channel;
    state.record('grant.review_escalated', 'system', {
      escalation: escalations,
      nextAt: iso(dueAt + everyMs),
      ...(channel ? { channel } : {}),
    });
    slack.escalated();
  }

  await state.flushed();
  slack.refresh();
  await slack.drained();
  await condition(allHandlersFinished);
  return state.view;
}

/** Hands an open review to a fresh run once its record and Slack steps are done. */
async function continueIfOpen(state: ReviewState, slack: ReviewMessages): Promise<void> {
  await state.flushed();
  await slack.drained();
  await condition(allHandlersFinished);
  if (!state.open) return;
  await continueAsNew<typeof breakglassReviewWorkflow>({
    ...state.start,
    resume: { recorded: state.recordedSeq, review: state.view, messages: slack.messages },
  });
}

function rule<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof Refusal || err instanceof AssertionError) return reject(err.code, err.message);
    throw err;
  }
}

function registerDecision(state: ReviewState, slack: ReviewMessages): void {
  const { requester, grantId } = state.start;
  const argsOf = ({ assertion: _a, ...rest }: ReviewDecisionArgs) => rest;

  setHandler(reviewViewQuery, () => state.snapshot ?? null);

  setHandler(
    decideReviewUpdate,
    async (args) => {
      const claims = readVerifiedClaims(args.assertion);
      rule(() => checkReviewDecision(state.view, requester, claims, argsOf(args)));
      const comment = args.comment?.trim();
      state.record(
        args.outcome === 'flagged' ? 'grant.review_flagged' : 'grant.review_acknowledged',
        { sub: claims.principal.sub, ...(claims.principal.email ? { email: claims.principal.email } : {}) },
        {
          ...(comment ? { comment } : {}),
          ...(args.revoke ? { revoke: true } : {}),
          onTime: Date.now() <= state.deadlineMs,
          policyIds: claims.verdict.policyIds,
          door: claims.door,
        },
      );
      slack.refresh();
      await state.flushed();
      return state.view;
    },
    {
      validator: (args) =>
        rule(() => {
          // Signed for this grant (the review's subject), for action `review`, for this update.
          const claims = verifyAssertion(args.assertion, verificationKeys(), {
            grantId,
            action: 'review',
            updateId: currentUpdateInfo()?.id ?? '',
            args,
            now: Date.now(),
          });
          checkReviewDecision(state.view, requester, claims, argsOf(args));
        }),
    },
  );
}
