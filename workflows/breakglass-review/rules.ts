// Who may decide a break-glass review, and how: a pure function of the review, the verified claims
// and the arguments. A refusal throws (a stable code) and writes no history.
import type { AssertionClaims } from '../../common/assertion.js';
import { type ReviewView, reviewOutcomes } from '../../common/breakglass-review.js';
import type { Principal } from '../../common/grant.js';
import { samePerson } from '../../common/identity.js';
import type { ReviewDecisionArgs } from '../../common/review-messages.js';
import { Refusal } from '../grant/validators.js';

const refuse = (code: Refusal['code'], message: string): never => {
  throw new Refusal(code, message);
};

export function checkReviewDecision(
  review: ReviewView,
  requester: Principal,
  claims: AssertionClaims,
  args: Omit<ReviewDecisionArgs, 'assertion'>,
): void {
  if (review.status !== 'open') {
    const by = review.reviewerEmail ?? review.reviewer ?? 'someone';
    refuse('review_closed', `the review was already decided: ${review.outcome ?? 'decided'} by ${by}`);
  }
  const by = claims.principal;
  if (by.kind === 'workload') refuse('not_eligible', 'workloads never review access');
  // The person who used the access, under any of their identities.
  if (samePerson(by, requester)) refuse('self_approval', 'you cannot review your own break-glass access');
  if (!claims.verdict.allowed) refuse('not_eligible', 'you are not a reviewer of this role');
  if (!(reviewOutcomes as readonly string[]).includes(args.outcome))
    refuse('invalid_argument', `outcome must be one of ${reviewOutcomes.join(', ')}`);
  if (args.outcome === 'flagged' && !args.comment?.trim())
    refuse('invalid_argument', 'a flag needs a comment saying why');
  if (args.revoke && args.outcome !== 'flagged')
    refuse('invalid_argument', 'only a flag can revoke the grant');
}
