// Message definitions of the grant and revocation-ledger workflows: the one module the API, the
// CLI's server side and the workflows share, so no caller imports workflow code.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Authorization, GrantView, IssuedCredentials, LedgerEntry, Principal } from './grant.js';

export const grantViewQuery = defineQuery<GrantView>('grantView');

/**
 * What a review decides: the request, or a pending extension of the active grant. Absent means
 * whichever is pending; a Slack button always means the request it was posted for, so a click that
 * arrives after the request was decided cannot approve an extension its reviewer never saw.
 */
export type ReviewTarget = 'request' | 'extension';
export interface ApproveArgs {
  by: Principal;
  comment?: string;
  authorization: Authorization;
  target?: ReviewTarget;
}
export interface DenyArgs {
  by: Principal;
  reason: string;
  authorization: Authorization;
  target?: ReviewTarget;
}
export interface CancelArgs {
  by: Principal;
}
export interface RevokeArgs {
  by: Principal;
  reason: string;
  authorization: Authorization;
}
export interface ExtendArgs {
  by: Principal;
  durationSeconds: number;
  reason: string;
}
export interface IssueCredentialsArgs {
  by: Principal;
}

export const approveUpdate = defineUpdate<GrantView, [ApproveArgs]>('approve');
export const denyUpdate = defineUpdate<GrantView, [DenyArgs]>('deny');
export const cancelUpdate = defineUpdate<GrantView, [CancelArgs]>('cancel');
export const revokeUpdate = defineUpdate<GrantView, [RevokeArgs]>('revoke');
export const extendUpdate = defineUpdate<GrantView, [ExtendArgs]>('extend');
export const issueCredentialsUpdate = defineUpdate<IssuedCredentials, [IssueCredentialsArgs]>(
  'issueCredentials',
);

/** Rejection codes of the update validators; the API maps each to an HTTP status. */
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

export const grantWorkflowType = 'grantWorkflow';
export const revocationLedgerWorkflowType = 'revocationLedgerWorkflow';
export const ledgerWorkflowId = (roleArn: string) => `revocation-ledger-${roleArn.replace(/[^\w.-]/g, '_')}`;
