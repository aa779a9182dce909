// Message definitions of the break-glass review workflow (workflows/breakglass-review/): one per
// break-glass grant, started when the grant activates, living on after the grant ends until a
// reviewer decides. Front doors and workflows share these; no caller imports workflow code.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { ReviewOutcome, ReviewPlan, ReviewView } from './breakglass-review.js';
import type { ApprovalMessageRef, GrantCard, Principal } from './grant.js';

export interface ReviewStart {
  grantId: string;
  roleId: string;
  /** Who used the access: never their own reviewer. */
  requester: Principal;
  reviewerGroups: string[];
  plan: ReviewPlan;
  /** What the review message shows about the grant. */
  card: GrantCard;
  /** Present when the worker talks to Slack (recorded by the grant's policy step). */
  slack?: { channel?: string };
  /** Set when a long-unreviewed review continued as new: where it picks up. */
  resume?: ReviewResume;
}

export interface ReviewResume {
  /** Audit events recorded so far: event ids go on after this. */
  recorded: number;
  review: ReviewView;
  /** Messages posted so far, edited when the review is decided. */
  messages: { review?: ApprovalMessageRef | null; escalation?: ApprovalMessageRef | null };
}

/**
 * A reviewer's decision. Signed for action `review` on the grant's id (not the review workflow's),
 * like every decision on a grant.
 */
export interface ReviewDecisionArgs {
  assertion: string;
  outcome: ReviewOutcome;
  /** Required to flag: why. */
  comment?: string;
  /** With a flag: the grant should be revoked too (the front door revokes it, signed). */
  revoke?: boolean;
}

export const decideReviewUpdate = defineUpdate<ReviewView, [ReviewDecisionArgs]>('decideReview');
/** For operators in the Temporal UI; reads come from the read model. */
export const reviewViewQuery = defineQuery<ReviewView | null>('reviewView');

export const breakglassReviewWorkflowType = 'breakglassReviewWorkflow';
export const reviewWorkflowId = (grantId: string) => `review-${grantId}`;
