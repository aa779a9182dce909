import type { OnCallSchedule } from '../common/oncall.js';
// What the policy engine takes and returns. Every result is a plain JSON value: the grant workflow
// records decisions in Temporal history, so they must survive a JSON round trip unchanged.

import type { FollowUpPlan } from '../common/approval-follow-up.js';
import type { ReviewPlan } from '../common/breakglass-review.js';
import type { OnBehalfOf, WorkloadAttribute } from '../common/grant.js';

export type { Principal } from '../common/grant.js';
export type { RequestDecision } from '../common/policy-decision.js';

/** Attributes a catalog workload may be matched on in a token (the issuers file maps claims to them). */
export const tokenAttributeNames = [
  'repository',
  'ref',
  'environment',
  'jobWorkflowRef',
  'actor',
  'clientId',
] as const satisfies readonly WorkloadAttribute[];
export type TokenAttribute = (typeof tokenAttributeNames)[number];

/** A pipeline, agent or state machine the broker recognises (catalog.yaml `workloads`). */
export interface CatalogWorkload {
  name: string;
  description: string;
  /** A token from issuer `issuer` whose mapped attributes equal all of these is this workload. */
  tokens: { issuer: string; attributes: Partial<Record<TokenAttribute, string>> }[];
  /** Queue door: messages sent by a session of one of these roles are this workload's. */
  awsRoles: string[];
  /** Queue door: the IAM unique id SQS reports as the sender (AIDA... a user, AROA... a role). */
  awsPrincipalIds: string[];
}

/** A catalog file: its roles, its on-call schedule and its workloads. */
export interface Catalog {
  roles: CatalogRole[];
  onCall: OnCallSchedule;
  workloads: CatalogWorkload[];
}

/** One role of policies/catalog.yaml, durations resolved to seconds. */
export interface CatalogRole {
  id: string;
  description: string;
  arn: string;
  account: string;
  maxDurationSeconds: number;
  /** Cap on a grant's total time including extensions (>= maxDurationSeconds). */
  maxTotalDurationSeconds: number;
  approvalsRequired: number;
  approvalTimeoutSeconds: number;
  requesterGroups: string[];
  reviewerGroups: string[];
  slackChannel?: string;
  /** Regular expression (source text) a ticket must match when one is given. */
  ticketPattern?: string;
  /** Requests up to this long need no approval; 0 = never auto-approved. */
  autoApproveMaxSeconds: number;
  /** Immediate access, flagged for post-hoc review. */
  breakGlass: boolean;
  /** The IAM role's MaxSessionDuration: no STS session may be longer. */
  roleMaxSessionSeconds: number;
  /** Reminders, escalation and nudges while a request waits (remindAfter, escalateAfter, ...). */
  followUp: FollowUpPlan;
  /** Break-glass roles: the post-hoc review (reviewDeadline, reviewEscalateEvery). */
  review?: ReviewPlan;
}

export interface RequestContext {
  durationSeconds: number;
  reason: string;
  ticket?: string;
  /** Defaults to the role's own flag: break-glass roles are requested as break-glass. */
  breakGlass?: boolean;
  now: Date;
  /** For an extension: seconds the grant already has, so the role's total cap can be checked. */
  alreadyGrantedSeconds?: number;
  /** A workload asking for a person: Cedar's `actFor` must allow it too. */
  onBehalfOf?: OnBehalfOf;
}

/** What is known about the grant an approver or revoker acts on; feeds the Cedar context. */
export interface GrantFacts {
  durationSeconds?: number;
  reason?: string;
  ticket?: string;
  breakGlass?: boolean;
  now?: Date;
  /** The request has escalated: its role's escalation group may approve too. */
  escalated?: boolean;
}

export interface ApproveDecision {
  allowed: boolean;
  policyIds: string[];
  reason?: 'self_approval' | 'not_eligible';
}

export interface RevokeDecision {
  allowed: boolean;
  policyIds: string[];
}
