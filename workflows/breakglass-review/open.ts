// The grant's hook: a break-glass grant that activates opens its post-hoc review, a workflow of its
// own that outlives the grant (parent close policy ABANDON), so access that ended before anyone
// looked at it is still reviewed.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { startChild } from '@temporalio/workflow';
import type { GrantCard } from '../../common/grant.js';
import { type ReviewStart, reviewWorkflowId } from '../../common/review-messages.js';
import type { GrantState } from '../grant/state.js';
import { breakglassReviewWorkflow } from './workflow.js';

export async function openBreakGlassReview(grant: GrantState, card: GrantCard): Promise<void> {
  const plan = grant.role?.review;
  if (!grant.view.breakGlass || !plan) return;
  // The review's events come after the activation in the audit trail.
  await grant.flushed();
  const start: ReviewStart = {
    grantId: grant.id,
    roleId: grant.request.roleId,
    requester: grant.requester,
    reviewerGroups: grant.decision?.reviewerGroups ?? grant.role?.reviewerGroups ?? [],
    plan,
    card,
    ...(grant.slack ? { slack: grant.slack } : {}),
  };
  try {
    await startChild(breakglassReviewWorkflow, {
      workflowId: reviewWorkflowId(grant.id),
      args: [start],
      parentClosePolicy: 'ABANDON',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
  } catch (err) {
    // Opened before (a reset grant activating again): that review stands.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}
