// The grant's shapes as the API, the CLI and the workflows see them (DESIGN.md "The grant view").
import type { Principal, RequestDecision } from '../policies/types.js';

export type { Principal } from '../policies/types.js';

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
