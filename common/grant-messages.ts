// Message definitions of the grant and revocation-ledger workflows: the one module front doors,
// activities and workflows share, so no caller imports workflow code. Every command that can change
// a grant carries `assertion`, a front door's signature over it (common/assertion.ts).
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { GrantView, IssuedCredentials, LedgerEntry, OnBehalfOf } from './grant.js';

/** What a front door asks for; the requester is the principal of the start's assertion. */
export interface GrantRequestFields {
  grantId: string;
  roleId: string;
  durationSeconds: number;
  reason: string;
  ticket?: string;
  breakGlass?: boolean;
  /** Digest of the caller's request body: a retry under the same Idempotency-Key must match it. */
  requestDigest?: string;
  /** A workload asking for a person (policy action `actFor` allows it); both are recorded. */
  onBehalfOf?: OnBehalfOf;
  /** Set by the queue door: the Step Functions task waiting for this grant (workflows/grant/callbacks.ts). */
  stepFunctions?: StepFunctionsTask;
}

/**
 * A Step Functions Task state waiting (`.waitForTaskToken`) for the grant. The task token is a
 * bearer capability: it travels only in encrypted payloads, never in the audit trail or a log.
 */
export interface StepFunctionsTask {
  taskToken: string;
  executionArn: string;
  stateName: string;
  /** The Task state's HeartbeatSeconds: the grant heartbeats while approvals are pending. */
  heartbeatSeconds?: number;
  /** How often the grant checks that the execution still runs (the queue door's setting). */
  watchSeconds: number;
}

/** The input of a grant workflow (its id is `request.grantId`). */
export interface GrantStart {
  v: 2;
  request: GrantRequestFields;
  /** Signed for action `request`, update id `start`, over `{ v, request }`. */
  assertion: string;
}

/**
 * What a review decides: the request, or a pending extension of the active grant. Absent means
 * whichever is pending; a Slack button always means the request it was posted for, so a click that
 * arrives after the request was decided cannot approve an extension its reviewer never saw.
 */
export type ReviewTarget = 'request' | 'extension';

export interface ApproveArgs {
  assertion: string;
  comment?: string;
  target?: ReviewTarget;
}
export interface DenyArgs {
  assertion: string;
  reason: string;
  target?: ReviewTarget;
}
export interface CancelArgs {
  assertion: string;
  /** Required when someone other than the requester cancels (the kill switch). */
  reason?: string;
}
export interface RevokeArgs {
  assertion: string;
  reason: string;
}
export interface ExtendArgs {
  assertion: string;
  durationSeconds: number;
  reason: string;
}
export interface IssueCredentialsArgs {
  assertion: string;
}
/** The requester asks the reviewers of a pending request again (rate-limited per role). */
export interface NudgeArgs {
  assertion: string;
}
/** Sent with the start (update-with-start); answers once the policy decision is recorded. */
export interface AwaitDecisionArgs {
  requestDigest?: string;
}

export const awaitDecisionUpdate = defineUpdate<GrantView, [AwaitDecisionArgs]>('awaitDecision');
export const approveUpdate = defineUpdate<GrantView, [ApproveArgs]>('approve');
export const denyUpdate = defineUpdate<GrantView, [DenyArgs]>('deny');
export const cancelUpdate = defineUpdate<GrantView, [CancelArgs]>('cancel');
export const revokeUpdate = defineUpdate<GrantView, [RevokeArgs]>('revoke');
export const extendUpdate = defineUpdate<GrantView, [ExtendArgs]>('extend');
export const issueCredentialsUpdate = defineUpdate<IssuedCredentials, [IssueCredentialsArgs]>(
  'issueCredentials',
);
export const nudgeUpdate = defineUpdate<GrantView, [NudgeArgs]>('nudge');

/** For operators debugging a grant in the Temporal UI; no read path of the broker uses it. */
export const grantViewQuery = defineQuery<GrantView>('grantView');

/** Rejection codes of the update validators and handlers; the API maps each to an HTTP status. */
export const grantRejections = [
  'self_approval',
  'not_eligible',
  'already_approved',
  'already_decided',
  'grant_not_pending',
  'grant_not_active',
  'not_requester',
  'extension_exceeds_cap',
  'extension_pending',
  'invalid_argument',
  'idempotency_conflict',
  'aws_unavailable',
  'aws_refused',
  'payload_not_encrypted',
  'rate_limited',
  'review_closed',
  'assertion_missing',
  'assertion_invalid',
  'assertion_unknown_key',
  'assertion_expired',
  'assertion_mismatch',
] as const;
export type GrantRejection = (typeof grantRejections)[number];

/** Sessions to deny on one role until they expire; sent with signal-with-start. */
export const coverSessionsSignal = defineSignal<[LedgerEntry[]]>('coverSessions');
export interface LedgerState {
  entries: LedgerEntry[];
  /** Overflow mode: every session issued before `at` is denied until `until`. */
  issuedBefore?: { at: string; until: string };
}
export const ledgerStateQuery = defineQuery<LedgerState>('ledgerState');

/**
 * An audit event a front door records itself, signed (workflows/door-record.ts): the kill switch
 * (`principal.revoked_all`, action `revokeAll`), or a workload's refused request or review
 * (`access.refused`, action `request` / `approve` / `deny`), so auditors see what an agent tried.
 */
export interface DoorRecord {
  /** `revoke-all-<ULID>` or `refused-<ULID>`: the workflow id, and the event's `grantId`. */
  id: string;
  type: 'principal.revoked_all' | 'access.refused';
  /** Whose record: the kill switch's target, or the workload refused (the event's `requester`). */
  subject: string;
  roleId: string;
  data: Record<string, unknown>;
}
export interface DoorRecordStart {
  v: 1;
  record: DoorRecord;
  /** Signed for the record's action, grant id = record id, update id `start`, over `{ v, record }`. */
  assertion: string;
}
export const doorRecordWorkflowType = 'doorRecordWorkflow';
/** The assertion action each kind of record must be signed for. */
export const doorRecordActions: Record<DoorRecord['type'], readonly string[]> = {
  'principal.revoked_all': ['revokeAll'],
  'access.refused': ['request', 'approve', 'deny'],
};

export const grantWorkflowType = 'grantWorkflow';
export const revocationLedgerWorkflowType = 'revocationLedgerWorkflow';
export const ledgerWorkflowId = (roleArn: string) => `revocation-ledger-${roleArn.replace(/[^\w.-]/g, '_')}`;
export const grantReconcilerWorkflowType = 'grantReconcilerWorkflow';
/** One reconciler per task queue (workflows/grant-reconciler.ts). */
export const reconcilerWorkflowId = (taskQueue: string) => `jit-grant-reconciler-${taskQueue}`;
