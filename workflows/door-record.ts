// An audit event a front door records itself, outside any grant: the kill switch, or a workload's
// refused request or review. The front door signs the record; this workflow verifies the signature
// and appends exactly what was signed, once (event id `<record id>:1`), so the audit trail stays
// written only by the audit activity and nothing unsigned lands in it.
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import {
  type AssertionAction,
  AssertionError,
  readVerifiedClaims,
  START_UPDATE_ID,
  verifyAssertion,
} from '../common/assertion.js';
import { type DoorRecordStart, doorRecordActions } from '../common/grant-messages.js';
import { verificationKeys } from './assertion-keys.js';
import { recordAuditEvents } from './grant/activities.js';

export async function doorRecordWorkflow(start: DoorRecordStart): Promise<void> {
  const { record } = start;
  const action = readAction(start.assertion);
  if (!doorRecordActions[record.type]?.includes(action))
    throw ApplicationFailure.nonRetryable(
      `a ${record.type} record is not signed for ${action}`,
      'assertion_mismatch',
    );
  let claims: ReturnType<typeof verifyAssertion>;
  try {
    claims = verifyAssertion(start.assertion, verificationKeys(), {
      grantId: workflowInfo().workflowId,
      action: action as AssertionAction,
      updateId: START_UPDATE_ID,
      args: start as unknown as Record<string, unknown>,
      now: workflowInfo().startTime.getTime(),
    });
  } catch (err) {
    // Nothing recorded: the record was not a front door's.
    if (err instanceof AssertionError) throw ApplicationFailure.nonRetryable(err.message, err.code);
    throw err;
  }
  // The kill switch acts on Cedar's allowing verdict; a refusal records a denying one.
  if ((record.type === 'principal.revoked_all') !== claims.verdict.allowed)
    throw ApplicationFailure.nonRetryable(
      `a ${record.type} record with this verdict is not one`,
      'not_eligible',
    );
  await recordAuditEvents([
    {
      eventId: `${record.id}:1`,
      occurredAt: new Date(Date.now()).toISOString(),
      grantId: record.id,
      type: record.type,
      actor: claims.principal.sub,
      ...(claims.principal.email ? { actorEmail: claims.principal.email } : {}),
      roleId: record.roleId,
      requester: record.subject,
      data: { ...record.data, actorKind: claims.principal.kind ?? 'person', door: claims.door },
    },
  ]);
}

/** The action the assertion claims; verifyAssertion then checks it against the signature. */
function readAction(jws: unknown): string {
  try {
    return String(readVerifiedClaims(String(jws)).action ?? '');
  } catch {
    return '';
  }
}
