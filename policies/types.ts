// What the policy engine takes and returns. Every result is a plain JSON value: the grant workflow
// records decisions in Temporal history, so they must survive a JSON round trip unchanged.

/** The caller, from the OIDC token: `sub` is the stable key, groups come from the groups claim. */
export interface Principal {
  sub: string;
  email?: string;
  groups: string[];
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

/** What is known about the grant an approver or revoker acts on; feeds the Cedar context. */
export interface GrantFacts {
  durationSeconds?: number;
  reason?: string;
  ticket?: string;
  breakGlass?: boolean;
  now?: Date;
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
