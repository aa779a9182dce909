// The policy decision of a grant, recorded in history so policy files may change without breaking
// replay. Input the engine cannot evaluate is non-retryable: the same input fails the same way.
import { ApplicationFailure } from '@temporalio/common';
import type { PolicyInput, PolicyOutcome } from '../common/activities.js';
import type { PolicyEngine } from '../policies/engine.js';

export function createPolicyActivities({
  engine,
  slack = false,
}: {
  engine: Pick<PolicyEngine, 'evaluateRequest' | 'role'>;
  /** Whether this worker talks to Slack; the outcome records it for the workflow. */
  slack?: boolean;
}) {
  return {
    async evaluateGrantRequest(input: PolicyInput): Promise<PolicyOutcome> {
      let decision: PolicyOutcome['decision'];
      try {
        decision = engine.evaluateRequest(input.requester, input.roleId, {
          durationSeconds: input.durationSeconds,
          reason: input.reason,
          now: new Date(),
          ...(input.ticket !== undefined ? { ticket: input.ticket } : {}),
          ...(input.breakGlass !== undefined ? { breakGlass: input.breakGlass } : {}),
          ...(input.alreadyGrantedSeconds !== undefined
            ? { alreadyGrantedSeconds: input.alreadyGrantedSeconds }
            : {}),
          ...(input.onBehalfOf ? { onBehalfOf: input.onBehalfOf } : {}),
        });
      } catch (err) {
        throw ApplicationFailure.nonRetryable(
          `the policy engine could not evaluate this request: ${(err as Error).message}`,
          'policy_input_invalid',
        );
      }
      const role = engine.role(input.roleId);
      if (!role) return { decision };
      return {
        decision,
        ...(slack ? { slack: role.slackChannel ? { channel: role.slackChannel } : {} } : {}),
        role: {
          id: role.id,
          arn: role.arn,
          account: role.account,
          maxDurationSeconds: role.maxDurationSeconds,
          maxTotalDurationSeconds: role.maxTotalDurationSeconds,
          roleMaxSessionSeconds: role.roleMaxSessionSeconds,
          reviewerGroups: [...role.reviewerGroups],
          ...(role.slackChannel ? { slackChannel: role.slackChannel } : {}),
          followUp: { ...role.followUp },
          ...(role.review ? { review: { ...role.review } } : {}),
        },
      };
    },
  };
}
