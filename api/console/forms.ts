// The console's input shapes: every form and query is checked here, with the same field rules as
// the JSON API (api/schemas.ts). A form that fails is shown again with what to fix, as a 400.
import { z } from 'zod';
import { auditEventTypes } from '../../common/audit-event.js';
import { grantStatuses } from '../../common/grant.js';
import { ApiError } from '../errors.js';
import { duration, readable, roleId } from '../schemas.js';

/** Blank form fields arrive as ''; they mean "not given". */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema.optional());

const text = (max: number) => readable(z.string().trim().min(1, 'is required').max(max));

/** A one-time key per rendered form: submitting twice counts once (the update id). */
const formKey = z.string().regex(/^[\w-]{10,64}$/, 'the form is malformed; reload the page');

/** A path inside the console to come back to; never another site. */
export const returnTo = z
  .string()
  .max(512)
  .regex(/^\/(?![/\\])[^\s\\]*$/, 'must be a path inside the console');

const csrf = { _csrf: z.string().max(200).optional() };

export const requestForm = z.strictObject({
  ...csrf,
  key: formKey,
  role: roleId,
  duration,
  reason: text(500),
  ticket: optional(readable(z.string().trim().min(1).max(128))),
  /** Break-glass roles: the requester confirms they mean it. */
  breakGlass: optional(z.literal('on')),
});

const reviewTarget = z.enum(['request', 'extension']);

export const approveForm = z.strictObject({
  ...csrf,
  key: formKey,
  target: reviewTarget,
  comment: optional(readable(z.string().trim().max(500))),
  returnTo: optional(returnTo),
});

export const denyForm = z.strictObject({
  ...csrf,
  key: formKey,
  target: reviewTarget,
  reason: text(500),
  returnTo: optional(returnTo),
});

/** The post-hoc review of a break-glass grant: acknowledge (comment optional) or flag (why, required). */
export const acknowledgeForm = z.strictObject({
  ...csrf,
  key: formKey,
  comment: optional(readable(z.string().trim().max(500))),
  returnTo: optional(returnTo),
});

export const flagForm = z.strictObject({
  ...csrf,
  key: formKey,
  reason: text(500),
  /** A checkbox: revoke the grant too, if it is still active. */
  revoke: optional(z.literal('on')),
  returnTo: optional(returnTo),
});

export const revokeForm = z.strictObject({ ...csrf, key: formKey, reason: text(500) });
export const extendForm = z.strictObject({ ...csrf, key: formKey, duration, reason: text(500) });
export const plainForm = z.strictObject({ ...csrf, key: formKey });
export const signOutForm = z.strictObject({ ...csrf });

const isoTime = z.iso.datetime({ offset: true });
const statusList = z
  .union([z.enum(grantStatuses), z.array(z.enum(grantStatuses)).max(grantStatuses.length)])
  .transform((v) => (Array.isArray(v) ? v : [v]));
const cursor = z
  .string()
  .max(512)
  .regex(/^[\w-]+$/, 'is not a valid page link');
const subject = readable(z.string().trim().min(1).max(256));

export const myGrantsQuery = z.strictObject({
  show: optional(z.enum(['all', 'pending', 'active', 'ended'])),
  cursor: optional(cursor),
});

export const grantSearchQuery = z.strictObject({
  from: optional(isoTime),
  to: optional(isoTime),
  requester: optional(subject),
  role: optional(roleId),
  status: optional(statusList),
  cursor: optional(cursor),
});

export const eventSearchQuery = z.strictObject({
  from: optional(isoTime),
  to: optional(isoTime),
  requester: optional(subject),
  role: optional(roleId),
  type: optional(
    z
      .union([z.enum(auditEventTypes), z.array(z.enum(auditEventTypes)).max(auditEventTypes.length)])
      .transform((v) => (Array.isArray(v) ? v : [v])),
  ),
  grant: optional(z.string().max(64)),
  before: optional(z.coerce.number().int().positive()),
});

export const exportFormat = z.enum(['csv', 'jsonl']);

export const signInQuery = z.object({ returnTo: optional(returnTo) });

export const liveQuery = z.strictObject({ grant: optional(z.string().max(64)) });

/** A form or query that failed its schema: 400 validation_failed, with the problem of each field. */
export class FormError extends ApiError {
  constructor(readonly fields: Record<string, string>) {
    super(
      'validation_failed',
      Object.entries(fields)
        .map(([field, problem]) => `${field}: ${problem}`)
        .join('; '),
    );
  }
}

/** The form's values, or a FormError naming each field's first problem. */
export function parseForm<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const fields: Record<string, string> = {};
  for (const issue of result.error.issues) {
    const field = String(issue.path[0] ?? 'form');
    fields[field] ??= issue.message;
  }
  throw new FormError(fields);
}
