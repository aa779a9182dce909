// The frozen contract of the first grant workflow (workflows/grant/v1.ts): its input, view, update
// arguments and activities exactly as grants started before the signed-assertion release saw them.
// Kept so those histories replay and such grants finish; never change these shapes.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { AuditEventInput } from '../../common/audit-event.js';

/** The caller, from the OIDC token. */
export interface Principal {
  sub: string;
  email?: string;
  groups: string[];
}

export interface RequestDecision {
  allowed: boolean;
  autoApproved: boolean;
  /** Allowed as break-glass: immediate, to be reviewed after the fact. */
  breakGlass: boolean;
  /** 0 when auto-approved. */
  approvalsRequired: number;
  reviewerGroups: string[];
  approvalTimeoutSeconds: number;
  /** `@id` of the Cedar policies that determined the decision. */
  policyIds: string[];
  /** Why not, for people; empty when allowed. */
  reasons: string[];
}

export const grantStatuses = [
  'pending',
  'active',
  'denied',
  'cancelled',
  'timed_out',
  'expired',
  'revoked',
  'failed',
] as const;
export type GrantStatus = (typeof grantStatuses)[number];
export const endedStatuses: readonly GrantStatus[] = [
  'denied',
  'cancelled',
  'timed_out',
  'expired',
  'revoked',
  'failed',
];

/** What starts a grant workflow; the workflow id is `grantId`. */
export interface GrantRequest {
  grantId: string;
  requester: Principal;
  roleId: string;
  durationSeconds: number;
  reason: string;
  ticket?: string;
  breakGlass?: boolean;
}

/** The catalog role as the policy activity saw it, recorded so catalog edits never change a running grant. */
export interface RoleSnapshot {
  id: string;
  arn: string;
  account: string;
  maxDurationSeconds: number;
  maxTotalDurationSeconds: number;
  roleMaxSessionSeconds: number;
  slackChannel?: string;
}

export interface PolicyOutcome {
  decision: RequestDecision;
  /** Absent when the role is not in the catalog. */
  role?: RoleSnapshot;
  /**
   * Present when the worker talks to Slack; recorded here so replay makes the same choice whatever
   * the worker's configuration is today. `channel` is the role's approval channel, if it has one.
   */
  slack?: { channel?: string };
}

/** What a Slack message or DM shows about a grant: the view without sessions, timeline or policy ids. */
export interface GrantCard {
  id: string;
  status: GrantStatus;
  requester: { sub: string; email?: string };
  role: { id: string; account?: string };
  duration: number;
  reason: string;
  ticket?: string;
  breakGlass: boolean;
  approvals: { by: string; email?: string }[];
  requiredApprovals: number;
  expiresAt?: string;
  endedAt?: string;
  endedBy?: string;
  endReason?: string;
}

/** The posted approval message, so later states edit it in place. */
export interface ApprovalMessageRef {
  channel: string;
  ts: string;
}

/** The moments the requester hears about by DM. */
export type RequesterNoticeKind = 'approved' | 'denied' | 'active' | 'expiring' | 'ended';

/**
 * A caller's Cedar verdict on approve / deny / revoke. Update validators must be synchronous and
 * deterministic, so the API and the Slack handler evaluate policy and pass the verdict in; the
 * workflow enforces it, records its policy ids, and checks itself what it can (self-approval,
 * duplicates, state, requester-only actions).
 */
export interface Authorization {
  allowed: boolean;
  policyIds: string[];
}

export interface Approval {
  by: string;
  email?: string;
  at: string;
  comment?: string;
  policyIds: string[];
}

export interface SessionRecord {
  accessKeyId: string;
  sessionName: string;
  expiresAt: string;
  /** `<RoleId>:<session name>`, what a deny on `aws:userid` matches. */
  assumedRoleId: string;
  issuedAt: string;
}

export interface TimelineEntry {
  at: string;
  type: string;
  by: string;
  detail?: string;
}

export interface PendingExtension {
  durationSeconds: number;
  reason: string;
  requestedAt: string;
  requiredApprovals: number;
  approvals: Approval[];
}

export interface GrantView {
  id: string;
  status: GrantStatus;
  requester: { sub: string; email?: string };
  role: { id: string; arn?: string };
  /** Granted seconds, extensions included. */
  duration: number;
  reason: string;
  ticket?: string;
  breakGlass: boolean;
  approvals: Approval[];
  requiredApprovals: number;
  createdAt: string;
  activatedAt?: string;
  expiresAt?: string;
  endedAt?: string;
  endReason?: string;
  endedBy?: string;
  sessions: Omit<SessionRecord, 'assumedRoleId' | 'issuedAt'>[];
  pendingExtension?: PendingExtension;
  policyIds: string[];
  timeline: TimelineEntry[];
}

/** Credentials as `credential_process` expects them (Version 1); secret, so codec-encrypted in history. */
export interface IssuedCredentials {
  Version: 1;
  AccessKeyId: string;
  SecretAccessKey: string;
  SessionToken: string;
  Expiration: string;
}

/** One session the revocation ledger must deny until it expires. */
export interface LedgerEntry {
  grantId: string;
  assumedRoleId: string;
  expiresAt: string;
}

/** A row of the grant list, from Temporal visibility (no query per grant). */
export interface GrantSummary {
  id: string;
  status: string;
  role: string;
  requester: string;
  createdAt: string;
  expiresAt?: string;
}

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

/** The activities a v1 grant schedules, by name; the worker keeps registering them. */
export interface V1Activities {
  evaluateGrantRequest(request: GrantRequest & { alreadyGrantedSeconds?: number }): Promise<PolicyOutcome>;
  assumeRole(input: {
    roleArn: string;
    sessionName: string;
    sourceIdentity: string;
    durationSeconds: number;
    tags: Record<string, string>;
  }): Promise<{
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken: string;
    expiration: string;
    assumedRoleArn: string;
    assumedRoleId: string;
  }>;
  recordAuditEvent(event: AuditEventInput): Promise<void>;
  coverSessions(args: { roleArn: string; entries: LedgerEntry[] }): Promise<void>;
  postApprovalMessage(args: { channel: string; card: GrantCard }): Promise<ApprovalMessageRef | null>;
  updateApprovalMessage(args: { message: ApprovalMessageRef; card: GrantCard }): Promise<void>;
  notifyRequester(args: { kind: RequesterNoticeKind; card: GrantCard }): Promise<{ delivered: boolean }>;
}
