// A policy decision as the grant workflow records it (a plain JSON value: it lands in history).

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
