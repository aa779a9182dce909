// The activities workflows call, as signatures: workflows import this contract (types only), the
// worker's activities/ implement it (`satisfies`), so workflow code never imports activity code.
import type { AuditEventInput } from './audit-event.js';
import type { ReviewCard } from './breakglass-review.js';
import type {
  ApprovalMessageRef,
  GrantCard,
  LedgerEntry,
  OnBehalfOf,
  Principal,
  RequesterNoticeKind,
  RoleSnapshot,
} from './grant.js';
import type { HandoffSuccess } from './handoff.js';
import type { RequestDecision } from './policy-decision.js';

export interface PolicyInput {
  requester: Principal;
  roleId: string;
  durationSeconds: number;
  reason: string;
  ticket?: string;
  breakGlass?: boolean;
  /** For an extension: seconds the grant already has, so the role's total cap is checked. */
  alreadyGrantedSeconds?: number;
  /** A workload's request for a person (Cedar action `actFor`). */
  onBehalfOf?: OnBehalfOf;
}

export interface PolicyOutcome {
  decision: RequestDecision;
  /** Absent when the role is not in the catalog. */
  role?: RoleSnapshot;
  /**
   * Present when the worker talks to Slack; recorded so replay makes the same choice whatever the
   * worker's configuration is today. `channel` is the role's approval channel, if it has one.
   */
  slack?: { channel?: string };
}

export interface AssumeRoleInput {
  /** The grant the session is for: refused when the audit trail says it has ended. */
  grantId?: string;
  roleArn: string;
  sessionName: string;
  sourceIdentity: string;
  durationSeconds: number;
  tags: Record<string, string>;
}

/** Secret fields travel only through the encrypting payload codec, never logs or audit rows. */
export interface SessionCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: string;
  assumedRoleArn: string;
  /** `<RoleId>:<session name>`: what `aws:userid` matches in a deny policy. */
  assumedRoleId: string;
}

export interface RevocationPolicyInput {
  roleArn: string;
  entries: LedgerEntry[];
  issuedBefore?: string;
}

export interface RevocationPolicyResult {
  written: boolean;
  size: number;
  limit: number;
}

/** Why reviewers hear about something again. */
export type ReminderOccasion =
  | { type: 'reminder'; reminder: number; of: number }
  | { type: 'escalation' }
  | { type: 'nudge' };

/** DMs to the eligible reviewers who have not acted yet: a pending request, or an open review. */
export interface ReviewerReminder {
  kind: 'approval' | 'review';
  occasion: ReminderOccasion;
  card: GrantCard | ReviewCard;
  roleId: string;
  /** Never reminded (a requester does not review their own access). */
  requester: Principal;
  /** `sub`s of reviewers who already acted. */
  acted: string[];
  /** The request was escalated: Cedar may allow the role's escalation group too. */
  escalated: boolean;
}

/**
 * How Step Functions took a task callback. `stopped`: the task no longer waits (TaskTimedOut,
 * InvalidToken, TaskDoesNotExist), which is final; throttling and outages are thrown and retried.
 */
export type TaskCallbackResult = { delivered: true } | { delivered: false; stopped: string };

export interface TaskSuccessInput {
  taskToken: string;
  output: HandoffSuccess;
}

export interface TaskFailureInput {
  taskToken: string;
  /** A stable name a state machine can `Catch`: Jit.Denied, Jit.TimedOut, ... */
  error: string;
  cause: string;
}

export interface BrokerActivities {
  /** Cedar and the catalog; in-process, run as a local activity. */
  evaluateGrantRequest(input: PolicyInput): Promise<PolicyOutcome>;
  /** Appends events (in order, idempotent per event id) and updates the grants read model with them. */
  recordAuditEvents(events: AuditEventInput[]): Promise<void>;
  recordAuditEvent(event: AuditEventInput): Promise<void>;
  assumeRole(input: AssumeRoleInput): Promise<SessionCredentials>;
  /** Hands sessions to the role's revocation ledger (signal-with-start). */
  coverSessions(args: { roleArn: string; entries: LedgerEntry[] }): Promise<void>;
  writeRevocationPolicy(input: RevocationPolicyInput): Promise<RevocationPolicyResult>;
  postApprovalMessage(args: { channel: string; card: GrantCard }): Promise<ApprovalMessageRef | null>;
  updateApprovalMessage(args: { message: ApprovalMessageRef; card: GrantCard }): Promise<void>;
  notifyRequester(args: { kind: RequesterNoticeKind; card: GrantCard }): Promise<{ delivered: boolean }>;
  /** Ends grants whose workflows closed without recording an end; returns the ids it ended. */
  reconcileGrants(): Promise<{ checked: number; ended: string[] }>;
  /** A reminder under a posted message (approval or review): a threaded reply also shown in the channel. */
  bumpMessage(args: {
    message: ApprovalMessageRef;
    kind: 'approval' | 'review';
    card: GrantCard | ReviewCard;
    occasion: ReminderOccasion;
  }): Promise<void>;
  /** Finds the eligible reviewers (directory + Cedar) and DMs those who have not acted. */
  remindReviewers(args: ReviewerReminder): Promise<{ notified: number }>;
  /** The break-glass review message, with Acknowledge and Flag buttons while the review is open. */
  postReviewMessage(args: { channel: string; card: ReviewCard }): Promise<ApprovalMessageRef | null>;
  updateReviewMessage(args: { message: ApprovalMessageRef; card: ReviewCard }): Promise<void>;
  /** Step Functions callbacks of a grant the queue door started (integrations/stepfunctions.ts). */
  sendTaskHeartbeat(args: { taskToken: string }): Promise<TaskCallbackResult>;
  sendTaskSuccess(args: TaskSuccessInput): Promise<TaskCallbackResult>;
  sendTaskFailure(args: TaskFailureInput): Promise<TaskCallbackResult>;
  /** RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, ... */
  describeExecution(args: { executionArn: string }): Promise<{ status: string }>;
}
