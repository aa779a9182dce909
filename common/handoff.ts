// The Step Functions handoff contract (README, "Step Functions"): the message a state machine sends
// to the broker's request queue, and the error names the broker answers a waiting task with. Defined
// once here: the queue door validates with it, the grant workflow names its failures with it.
import { z } from 'zod';

/** `SendTaskFailure` error names a state machine can `Catch`. */
export const handoffErrors = {
  /** A reviewer denied the request. */
  denied: 'Jit.Denied',
  /** Policy refused it (at the door, or when the grant evaluated it). */
  policyDenied: 'Jit.PolicyDenied',
  /** Nobody decided within the role's approval timeout. */
  timedOut: 'Jit.TimedOut',
  /** The broker could not carry it out (policy evaluation or AWS failed). */
  failed: 'Jit.Failed',
  /** Cancelled before a decision (the kill switch, or the requester). */
  cancelled: 'Jit.Cancelled',
  /** Active for a moment, then ended before the state machine heard (revoked, expired). */
  ended: 'Jit.Ended',
  /** The sender is not a workload of the catalog, or not the role its execution runs as. */
  unauthorized: 'Jit.Unauthorized',
  /** The message is not a request the broker understands (the cause says why). */
  invalidRequest: 'Jit.InvalidRequest',
} as const;

const text = (max: number) => z.string().trim().min(1).max(max);
const executionArn = z
  .string()
  .max(2048)
  .regex(
    /^arn:aws[\w-]*:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$/,
    'must be a Step Functions execution ARN',
  );

/** A Task state (`sqs:sendMessage.waitForTaskToken`) asking for a grant. */
export const handoffRequest = z.strictObject({
  version: z.literal(1),
  action: z.literal('request'),
  role: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a role id of the catalog'),
  /** "30m", "1h", "PT45M" or seconds. */
  duration: z.union([z.string().max(32), z.number().int().positive()]),
  reason: text(500),
  ticket: text(128).optional(),
  /** The person the pipeline acts for; policy (`actFor`) must allow it. */
  onBehalfOf: z.strictObject({ sub: text(256), email: z.string().max(320).optional() }).optional(),
  /** `$$.Task.Token`. */
  taskToken: z.string().min(1).max(2048),
  /** `$$.Execution.Id`. */
  execution: executionArn,
  /** `$$.State.Name`. */
  state: text(80),
  /** `$$.State.EnteredTime`: a state entered again (a retry loop) asks again; a redelivery does not. */
  enteredTime: z.string().max(64).optional(),
  /** The Task state's HeartbeatSeconds, when it sets one: the broker heartbeats while approvals wait. */
  heartbeatSeconds: z.number().int().min(3).max(99_999_999).optional(),
});
export type HandoffRequest = z.infer<typeof handoffRequest>;

/** A state machine giving its grant back (on the way out, success or failure): revoke, or cancel if pending. */
export const handoffRelease = z.strictObject({
  version: z.literal(1),
  action: z.literal('release'),
  grantId: z.string().regex(/^grant-[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a grant id'),
  reason: text(500),
  execution: executionArn.optional(),
});
export type HandoffRelease = z.infer<typeof handoffRelease>;

export const handoffMessage = z.discriminatedUnion('action', [handoffRequest, handoffRelease]);
export type HandoffMessage = z.infer<typeof handoffMessage>;

/** What a waiting task gets on success: never credentials (a later step fetches them itself). */
export interface HandoffSuccess {
  grantId: string;
  status: 'active';
  expiresAt: string;
  roleArn: string;
}

/** The error name a state machine can Catch, for how a grant ended before it became active. */
export function handoffErrorOf(ending: { status: string; byKind: string } | undefined): string {
  switch (ending?.status) {
    case 'denied':
      // The workflow's own policy step denies as `system`; a reviewer denies as themselves.
      return ending.byKind === 'system' ? handoffErrors.policyDenied : handoffErrors.denied;
    case 'timed_out':
      return handoffErrors.timedOut;
    case 'cancelled':
      return handoffErrors.cancelled;
    case 'revoked':
    case 'expired':
      return handoffErrors.ended;
    default:
      return handoffErrors.failed;
  }
}
