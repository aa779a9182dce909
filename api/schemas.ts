// Request shapes of the HTTP API (responses are the wire shapes of common/grant.ts); validation and
// the OpenAPI document both come from here. Every text a person types is checked at this edge.
import { z } from 'zod';
import { reviewOutcomes } from '../common/breakglass-review.js';
import { DurationError, parseDuration } from '../common/duration.js';
import { grantStatuses, principalKinds } from '../common/grant.js';

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

// Control characters (terminal escapes, NUL, BEL), C1 controls and bidirectional overrides (text
// that renders differently from what it says); newlines and tabs are fine in prose.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const UNSAFE_CHARACTERS = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/;

/** Checks text people will read: well-formed Unicode, no control characters. */
export const readable = <T extends z.ZodString>(schema: T) =>
  schema
    .refine((v) => v.isWellFormed(), 'must be valid Unicode (no unpaired surrogates)')
    .refine((v) => !UNSAFE_CHARACTERS.test(v), 'must not contain control characters');

const text = (max: number) => readable(z.string().trim().min(1).max(max));
/** Identifiers: roles, subs, ticket ids. */
export const roleId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[\w.-]+$/, 'letters, digits, dot, dash and underscore only');
const subject = readable(z.string().min(1).max(256));

export const createRequestBody = z.strictObject({
  role: roleId,
  duration,
  reason: text(500),
  ticket: readable(z.string().trim().min(1).max(128)).optional(),
  /** Workloads only, where policy allows it (`actFor`): the person the request is for. */
  onBehalfOf: z
    .strictObject({ sub: subject, email: readable(z.string().trim().min(3).max(320)).optional() })
    .optional(),
});

/** A principal's `sub`: a person's as the IdP gives it, or `workload:<name>`. */
export const principalParams = z.strictObject({ sub: subject });

export const grantIdParams = z.strictObject({ id: z.string().max(64) });
// A POST without a body reaches validation as null.
export const approveBody = z
  .strictObject({ comment: readable(z.string().trim().max(500)).optional() })
  .nullish();
export const reasonBody = z.strictObject({ reason: text(500) });
export const extendBody = z.strictObject({ duration, reason: text(500) });
export const emptyBody = z.strictObject({}).nullish();
/** The post-hoc review of a break-glass grant: acknowledge, or flag with why (and maybe revoke). */
export const reviewBody = z
  .strictObject({
    outcome: z.enum(reviewOutcomes),
    comment: readable(z.string().trim().max(500)).optional(),
    revoke: z.boolean().optional(),
  })
  .refine((b) => b.outcome !== 'flagged' || Boolean(b.comment), {
    path: ['comment'],
    message: 'a flag needs a comment saying why',
  })
  .refine((b) => !b.revoke || b.outcome === 'flagged', {
    path: ['revoke'],
    message: 'only a flag can revoke the grant',
  });

const isoTime = z.iso.datetime({ offset: true });

export const listQuery = z.strictObject({
  /** One status or several, comma-separated. */
  status: z
    .string()
    .max(100)
    .transform((v) => v.split(','))
    .pipe(z.array(z.enum(grantStatuses)))
    .optional(),
  role: roleId.optional(),
  requester: subject.optional(),
  /** `workload`: what pipelines and agents asked for; `person`: what people did. */
  requesterKind: z.enum(principalKinds).optional(),
  /** `me`: only what waits for the caller's review. */
  review: z.literal('me').optional(),
  from: isoTime.optional(),
  to: isoTime.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z
    .string()
    .max(512)
    .regex(/^[\w-]+$/)
    .optional(),
});

export const idempotencyKey = z
  .string()
  .regex(/^[\w.:-]{1,128}$/, 'letters, digits and . : - _ only, at most 128')
  .optional();
export const idempotencyHeaders = z.object({ 'idempotency-key': idempotencyKey });

export const errorResponse = z
  .object({
    error: z.object({ code: z.string(), message: z.string(), requestId: z.string() }),
  })
  .describe('Every error: a stable code, a message for people and the request id');
