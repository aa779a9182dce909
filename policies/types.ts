// What the policy engine takes and returns. Every result is a plain JSON value: the grant workflow
// records decisions in Temporal history, so they must survive a JSON round trip unchanged.

import type { FollowUpPlan } from '../common/approval-follow-up.js';
import type { ReviewPlan } from '../common/breakglass-review.js';

export type { Principal } from '../common/grant.js';
export type { RequestDecision } from '../common/policy-decision.js';

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
