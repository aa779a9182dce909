// The policy decision of a grant, recorded in history so policy files may change without breaking replay.
import type { GrantRequest, PolicyOutcome } from '../common/grant.js';
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
    async evaluateGrantRequest(
      request: GrantRequest & { alreadyGrantedSeconds?: number },
    ): Promise<PolicyOutcome> {
      const decision = engine.evaluateRequest(request.requester, request.roleId, {
        durationSeconds: request.durationSeconds,
        reason: request.reason,
        now: new Date(),
        ...(request.ticket !== undefined ? { ticket: request.ticket } : {}),
        ...(request.breakGlass !== undefined ? { breakGlass: request.breakGlass } : {}),
        ...(request.alreadyGrantedSeconds !== undefined
          ? { alreadyGrantedSeconds: request.alreadyGrantedSeconds }
          : {}),
      });
      const role = engine.role(request.roleId);
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
          ...(role.slackChannel ? { slackChannel: role.slackChannel } : {}),
        },
      };
    },
  };
}
