// Request and response shapes of the HTTP API; validation and the OpenAPI document both come from here.
import { z } from 'zod';
import { grantStatuses } from '../common/grant.js';
import { DurationError, parseDuration } from '../policies/duration.js';

export const duration = z
  .union([z.string().max(32), z.number().int().positive()])
  .transform((value, ctx) => {
    try {
      return parseDuration(value);
    } catch (err) {
      ctx.addIssue({
        code: 'custom',
        message: err instanceof DurationError ? err.message : 'invalid duration',
      });
      return z.NEVER;
    }
  })
  .describe('"90m", "1h", ISO 8601 ("PT1H30M") or seconds');

const text = (max: number) => z.string().trim().min(1).max(max);

export const createRequestBody = z.strictObject({
  role: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[\w.-]+$/),
  duration,
  reason: text(500),
  ticket: z.string().trim().min(1).max(128).optional(),
});

export const grantIdParams = z.strictObject({ id: z.string().max(40) });
// A POST without a body reaches validation as null.
export const approveBody = z.strictObject({ comment: z.string().trim().max(500).optional() }).nullish();
export const reasonBody = z.strictObject({ reason: text(500) });
export const extendBody = z.strictObject({ duration, reason: text(500) });
export const emptyBody = z.strictObject({}).nullish();

export const listQuery = z.strictObject({
  status: z.enum(grantStatuses).optional(),
  role: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

const approval = z.object({
  by: z.string(),
  email: z.string().optional(),
  at: z.string(),
  comment: z.string().optional(),
  policyIds: z.array(z.string()),
});

export const grantView = z.object({
  id: z.string(),
  status: z.enum(grantStatuses),
  requester: z.object({ sub: z.string(), email: z.string().optional() }),
  role: z.object({ id: z.string(), arn: z.string().optional() }),
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
  sessions: z.array(z.object({ accessKeyId: z.string(), sessionName: z.string(), expiresAt: z.string() })),
  pendingExtension: z
    .object({
      durationSeconds: z.number(),
      reason: z.string(),
      requestedAt: z.string(),
      requiredApprovals: z.number(),
      approvals: z.array(approval),
    })
    .optional(),
  policyIds: z.array(z.string()),
  timeline: z.array(
    z.object({ at: z.string(), type: z.string(), by: z.string(), detail: z.string().optional() }),
  ),
});

export const grantSummary = z.object({
  id: z.string(),
  status: z.string(),
  role: z.string(),
  requester: z.string(),
  createdAt: z.string(),
  expiresAt: z.string().optional(),
});

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
});

/** Exactly what the AWS CLI and SDKs read from a `credential_process`. */
export const credentialProcessOutput = z.object({
  Version: z.literal(1),
  AccessKeyId: z.string(),
  SecretAccessKey: z.string(),
  SessionToken: z.string(),
  Expiration: z.string(),
});

export const errorResponse = z.object({
  error: z.object({ code: z.string(), message: z.string(), requestId: z.string() }),
});
