// The kill switch's own record: one audit event saying who took everything a principal holds, why,
// and which grants that meant. The front door signs it (Cedar `revokeAll`) and then revokes and
// cancels each grant with ordinary signed decisions whose reasons name this record's id.
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { AssertionError, START_UPDATE_ID, verifyAssertion } from '../common/assertion.js';
import type { PrincipalRevokedAllData } from '../common/audit-event.js';
import type { PrincipalRevocationStart } from '../common/grant-messages.js';
import { verificationKeys } from './assertion-keys.js';
import { recordAuditEvents } from './grant/activities.js';

export async function principalRevocationWorkflow(start: PrincipalRevocationStart): Promise<void> {
  const { revocation } = start;
  let claims: ReturnType<typeof verifyAssertion>;
  try {
    claims = verifyAssertion(start.assertion, verificationKeys(), {
      grantId: workflowInfo().workflowId,
      action: 'revokeAll',
      updateId: START_UPDATE_ID,
      args: start as unknown as Record<string, unknown>,
      now: workflowInfo().startTime.getTime(),
    });
  } catch (err) {
    // Nothing recorded: the record was not a front door's.
    if (err instanceof AssertionError) throw ApplicationFailure.nonRetryable(err.message, err.code);
    throw err;
  }
  if (!claims.verdict.allowed)
    throw ApplicationFailure.nonRetryable('policy does not allow it', 'not_eligible');
  const data: PrincipalRevokedAllData = {
    target: revocation.target.sub,
    targetKind: revocation.target.kind,
    reason: revocation.reason,
    revoke: revocation.revoke,
    cancel: revocation.cancel,
    policyIds: claims.verdict.policyIds,
    actorKind: claims.principal.kind ?? 'person',
  };
  await recordAuditEvents([
    {
      eventId: `${revocation.id}:1`,
      occurredAt: new Date(Date.now()).toISOString(),
      grantId: revocation.id,
      type: 'principal.revoked_all',
      actor: claims.principal.sub,
      ...(claims.principal.email ? { actorEmail: claims.principal.email } : {}),
      roleId: '',
      requester: revocation.target.sub,
      data: data as unknown as Record<string, unknown>,
    },
  ]);
}
