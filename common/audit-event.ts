// The audit trail's event contract, shared by the workflows (which emit), the audit activity (the
// only writer), the grants read model (a projection of these events) and the export readers.
import type { EndedStatus } from './grant.js';

export const auditEventTypes = [
  'grant.requested',
  'grant.approval_recorded',
  'grant.denied',
  'grant.cancelled',
  'grant.timed_out',
  'grant.activated',
  'grant.credentials_issued',
  'grant.extension_requested',
  'grant.extension_denied',
  'grant.extension_timed_out',
  'grant.extended',
  'grant.revoked',
  'grant.expired',
  'grant.failed',
  'grant.reminder_sent',
  'grant.escalated',
  'grant.nudged',
  'grant.review_opened',
  'grant.review_escalated',
  'grant.review_acknowledged',
  'grant.review_flagged',
  'ledger.entries_added',
  'ledger.entries_removed',
  'principal.revoked_all',
  'access.refused',
] as const;

export type AuditEventType = (typeof auditEventTypes)[number];

/** One event as a workflow hands it to the audit activity. Never carries secrets. */
export interface AuditEventInput {
  /** `<workflow id>:<sequence in that workflow>`: retries of the activity write it once. */
  eventId: string;
  /** Workflow time of the transition, ISO 8601. */
  occurredAt: string;
  /** The grant (workflow id `grant-<ULID>`), or the ledger workflow id for ledger events. */
  grantId: string;
  type: AuditEventType;
  /** OIDC `sub` of the person or workload who acted, or `system`. */
  actor: string;
  actorEmail?: string;
  roleId: string;
  /** The grant requester's `sub` (empty for ledger events). */
  requester: string;
  /** Type-specific detail (`GrantEventData` below for grant events). */
  data: Record<string, unknown>;
}

/** Who acted, as the audit trail marks it: every grant event's `data.actorKind`. */
export type ActorKind = 'person' | 'workload' | 'system';

/**
 * The kill switch (one event, before its decisions): every open grant of `target` is revoked or
 * cancelled by signed decisions whose reasons name this event's `grantId` (`revoke-all-<ULID>`).
 */
export interface PrincipalRevokedAllData {
  target: string;
  targetKind: 'person' | 'workload';
  reason: string;
  /** Active grants to revoke and pending ones to cancel, as the read model listed them. */
  revoke: string[];
  cancel: string[];
  policyIds: string[];
  actorKind: ActorKind;
  door?: string;
}

/**
 * A workload's request or review the front door refused (policy, not a reviewer): nothing started
 * or changed, but auditors see what a pipeline or agent tried. People's refusals are not recorded.
 */
export interface AccessRefusedData {
  action: 'request' | 'approve' | 'deny';
  /** The API error code (policy_denied, not_eligible, ...) and its message. */
  code: string;
  reason: string;
  /** The grant a refused review was for. */
  grant?: string;
  durationSeconds?: number;
  onBehalfOf?: string;
}

/**
 * The data of each grant event as the current workflow writes it. Older grants wrote fewer fields;
 * readers (common/grant-projection.ts, the exports) treat every field as possibly absent.
 */
export interface GrantEventData {
  'grant.requested': {
    reason: string;
    ticket?: string;
    durationSeconds: number;
    role?: { arn: string; account: string };
    allowed: boolean;
    autoApproved: boolean;
    breakGlass: boolean;
    requiredApprovals: number;
    policyIds: string[];
    reasons: string[];
    actorKind?: ActorKind;
    /** Front door that signed the start, and the digest an Idempotency-Key retry must match. */
    door?: string;
    requestDigest?: string;
    /** A workload's request for a person. */
    onBehalfOf?: { sub: string; email?: string };
    /** The Step Functions execution waiting for the answer (never its task token). */
    stepFunctions?: { executionArn: string; stateName: string };
  };
  'grant.approval_recorded': {
    approvals: number;
    of: number;
    comment?: string;
    policyIds?: string[];
    extension?: boolean;
    door?: string;
  };
  'grant.activated': {
    expiresAt: string;
    approvers: string[];
    breakGlass: boolean;
    postHocReview?: boolean;
  };
  'grant.credentials_issued': {
    sessionName: string;
    accessKeyId: string;
    sourceIdentity: string;
    expiresAt: string;
    assumedRoleArn: string;
    /** `<RoleId>:<session name>`, what the revocation ledger denies. Not secret. */
    assumedRoleId?: string;
    /** The Update whose result carried these credentials (one issuance per caller key). */
    updateId?: string;
  };
  'grant.extension_requested': {
    durationSeconds: number;
    reason: string;
    policyIds: string[];
    autoApproved: boolean;
    requiredApprovals?: number;
  };
  'grant.extension_denied': { reason: string };
  'grant.extension_timed_out': { durationSeconds?: number };
  'grant.extended': { durationSeconds: number; expiresAt: string; approvals: string[] };
  'grant.denied': EndData;
  'grant.cancelled': EndData;
  'grant.timed_out': EndData;
  'grant.expired': EndData;
  'grant.revoked': EndData;
  'grant.failed': EndData;
  /** A pending request's reviewers were reminded (common/approval-follow-up.ts). */
  'grant.reminder_sent': { reminder: number; of: number };
  /** Nobody decided in time: the escalation channel was told; `group` may approve from now on. */
  'grant.escalated': { afterSeconds: number; channel?: string; group?: string };
  /** The requester asked the reviewers again (rate-limited). */
  'grant.nudged': { door?: string };
  /**
   * The post-hoc review of a break-glass grant (common/breakglass-review.ts). Recorded by the
   * review workflow with the grant's id, so exports group them with the grant.
   */
  'grant.review_opened': { deadline: string; reviewerGroups: string[]; escalateEverySeconds: number };
  'grant.review_escalated': { escalation: number; nextAt: string; channel?: string };
  'grant.review_acknowledged': ReviewDecisionData;
  'grant.review_flagged': ReviewDecisionData;
}

export interface ReviewDecisionData {
  /** Why, for a flag (required); a note, for an acknowledgement. */
  comment?: string;
  /** The flag asked for the grant to be revoked too (the front door revokes it, signed, if active). */
  revoke?: boolean;
  onTime: boolean;
  policyIds: string[];
  door: string;
}

export interface EndData {
  reason?: string;
  /** Session names handed to the role's revocation ledger because they outlive the grant. */
  sessionsDenied?: string[];
  /** Set when the reconciler, not the grant's workflow, recorded the end. */
  reconciled?: boolean;
}

export type GrantEventType = keyof GrantEventData;

export const endEventType: Record<EndedStatus, GrantEventType> = {
  denied: 'grant.denied',
  cancelled: 'grant.cancelled',
  timed_out: 'grant.timed_out',
  expired: 'grant.expired',
  revoked: 'grant.revoked',
  failed: 'grant.failed',
};
