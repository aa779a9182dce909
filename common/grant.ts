// The grant's wire shapes, defined once: zod schemas (validation, the OpenAPI document, the
// console) with the TypeScript types inferred from them. Workflows import the types only.
import { z } from 'zod';
import { approvalFollowUp, type FollowUpPlan } from './approval-follow-up.js';
import { type ReviewPlan, reviewView } from './breakglass-review.js';

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
export type EndedStatus = Exclude<GrantStatus, 'pending' | 'active'>;
export const endedStatuses: readonly EndedStatus[] = [
  'denied',
  'cancelled',
  'timed_out',
  'expired',
  'revoked',
  'failed',
];

// Grant ids are `grant-` + 26 Crockford base32 characters (a ULID, or a digest for idempotent starts).
export const GRANT_ID = /^grant-[0-9A-HJKMNP-TV-Z]{26}$/;
export const grantId = z.string().regex(GRANT_ID, 'must be a grant id like grant-01J...');

/** People ask and review; workloads (pipelines, agents) ask, never review. */
export const principalKinds = ['person', 'workload'] as const;
export type PrincipalKind = (typeof principalKinds)[number];

/**
 * What is known about a workload and what policies read (Cedar `Jit::Workload`): `issuer` names the
 * issuers-file entry whose token it showed (or `aws` for the queue door); the rest come from the
 * token's claims through that issuer's mapping, or, for the queue door, the sending role.
 */
export const workloadAttributeNames = [
  'issuer',
  'repository',
  'ref',
  'environment',
  'jobWorkflowRef',
  'actor',
  'clientId',
  'awsRole',
] as const;
export type WorkloadAttribute = (typeof workloadAttributeNames)[number];

/** The caller as a front door authenticated it: `sub` is the stable key, groups from the token. */
export const principal = z.object({
  kind: z.enum(principalKinds).optional(),
  sub: z.string(),
  email: z.string().optional(),
  groups: z.array(z.string()),
  /** Workloads only (see workloadAttributeNames). */
  attributes: z.partialRecord(z.enum(workloadAttributeNames), z.string()).optional(),
});
export type Principal = z.infer<typeof principal>;

/** The person a workload says it acts for (policy action `actFor` must allow it); recorded with the grant. */
export const onBehalfOf = z.object({ sub: z.string(), email: z.string().optional() });
export type OnBehalfOf = z.infer<typeof onBehalfOf>;

export const approval = z.object({
  by: z.string(),
  email: z.string().optional(),
  at: z.string(),
  comment: z.string().optional(),
  policyIds: z.array(z.string()),
});
export type Approval = z.infer<typeof approval>;

/** An STS session issued for the grant: what CloudTrail shows (AccessKeyId, SourceIdentity). */
export const sessionView = z.object({
  accessKeyId: z.string(),
  sessionName: z.string(),
  expiresAt: z.string(),
  issuedAt: z.string().optional(),
  sourceIdentity: z.string().optional(),
});
export type SessionView = z.infer<typeof sessionView>;

export const timelineEntry = z.object({
  at: z.string(),
  type: z.string(),
  by: z.string(),
  detail: z.string().optional(),
});
export type TimelineEntry = z.infer<typeof timelineEntry>;

export const pendingExtension = z.object({
  durationSeconds: z.number(),
  reason: z.string(),
  requestedAt: z.string(),
  requiredApprovals: z.number(),
  approvals: z.array(approval),
});
export type PendingExtension = z.infer<typeof pendingExtension>;

/** The grant view: what the API, the console, the CLI and Slack show. */
export const grantView = z.object({
  id: z.string(),
  status: z.enum(grantStatuses),
  requester: z.object({
    sub: z.string(),
    email: z.string().optional(),
    kind: z.enum(principalKinds).optional(),
  }),
  /** A workload's request made for this person. */
  onBehalfOf: onBehalfOf.optional(),
  /** The Step Functions execution that asked through the queue and waits for the answer. */
  stepFunctions: z.object({ executionArn: z.string(), stateName: z.string().optional() }).optional(),
  role: z.object({ id: z.string(), arn: z.string().optional(), account: z.string().optional() }),
  /** Granted seconds, extensions included. */
  duration: z.number(),
  reason: z.string(),
  ticket: z.string().optional(),
  breakGlass: z.boolean(),
  approvals: z.array(approval),
  requiredApprovals: z.number(),
  createdAt: z.string(),
  activatedAt: z.string().optional(),
  expiresAt: z.string().optional(),
  endedAt: z.string().optional(),
  endReason: z.string().optional(),
  endedBy: z.string().optional(),
  sessions: z.array(sessionView),
  pendingExtension: pendingExtension.optional(),
  /** Extensions granted so far (`timeline` has who and when). */
  extensions: z.number().optional(),
  policyIds: z.array(z.string()),
  timeline: z.array(timelineEntry),
  /** Reminders, escalation and nudges while the request waited for approval. */
  followUp: approvalFollowUp.optional(),
  /** Break-glass grants: the post-hoc review, open until someone decides. */
  review: reviewView.optional(),
});
export type GrantView = z.infer<typeof grantView>;

/** A row of a grant list: the view without its sessions, policy ids and timeline. */
export const grantListItem = grantView.omit({ sessions: true, policyIds: true, timeline: true });
export type GrantListItem = z.infer<typeof grantListItem>;

/** What a Slack message or DM shows about a grant. */
export type GrantCard = Pick<
  GrantView,
  | 'id'
  | 'status'
  | 'requester'
  | 'role'
  | 'duration'
  | 'reason'
  | 'ticket'
  | 'breakGlass'
  | 'requiredApprovals'
  | 'expiresAt'
  | 'endedAt'
  | 'endedBy'
  | 'endReason'
> & { approvals: Pick<Approval, 'by' | 'email'>[]; escalatedAt?: string };

/** Exactly what the AWS CLI and SDKs read from a `credential_process` (Version 1). Secret. */
export const credentialProcessOutput = z.object({
  Version: z.literal(1),
  AccessKeyId: z.string(),
  SecretAccessKey: z.string(),
  SessionToken: z.string(),
  Expiration: z.string(),
});
export type IssuedCredentials = z.infer<typeof credentialProcessOutput>;

/** A catalog role as a requester sees it (GET /v1/roles). */
export const roleView = z.object({
  id: z.string(),
  description: z.string(),
  arn: z.string(),
  account: z.string(),
  maxDurationSeconds: z.number(),
  maxTotalDurationSeconds: z.number(),
  approvalsRequired: z.number(),
  autoApproveMaxSeconds: z.number(),
  breakGlass: z.boolean(),
  ticketPattern: z.string().optional(),
  /** Policy refuses a request for this role without a ticket. */
  ticketRequired: z.boolean().optional(),
});
export type RoleView = z.infer<typeof roleView>;

/** The catalog role as the policy step saw it, recorded so catalog edits never change a running grant. */
export interface RoleSnapshot {
  id: string;
  arn: string;
  account: string;
  maxDurationSeconds: number;
  maxTotalDurationSeconds: number;
  roleMaxSessionSeconds: number;
  reviewerGroups: string[];
  slackChannel?: string;
  /** Reminders, escalation and nudges of a pending request. */
  followUp?: FollowUpPlan;
  /** Break-glass roles: the post-hoc review's deadline and escalation. */
  review?: ReviewPlan;
}

/** The posted approval message, so later states edit it in place. */
export interface ApprovalMessageRef {
  channel: string;
  ts: string;
}

/** The moments the requester hears about by DM. */
export type RequesterNoticeKind = 'approved' | 'denied' | 'timed_out' | 'active' | 'expiring' | 'ended';

/** One session the revocation ledger must deny until it expires. */
export interface LedgerEntry {
  grantId: string;
  /** `<RoleId>:<session name>`, what a deny on `aws:userid` matches. */
  assumedRoleId: string;
  expiresAt: string;
}

/** What the kill switch did (POST /v1/principals/{sub}/revoke-all). */
export const revokeAllResult = z.object({
  /** `revoke-all-<ULID>`: the audit event's grant id, named in every decision's reason. */
  id: z.string(),
  principal: z.string(),
  revoked: z.array(z.string()),
  cancelled: z.array(z.string()),
  /** Grants it could not end, and why (a retry of the kill switch picks them up). */
  failed: z.array(z.object({ id: z.string(), code: z.string(), message: z.string() })),
});
export type RevokeAllResult = z.infer<typeof revokeAllResult>;
