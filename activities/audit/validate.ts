// Checks an event against the contract before it can touch the chain, and puts it in the one
// form that is stored and hashed (UTC timestamps, canonical data).
import { z } from 'zod';
import { type AuditEventInput, type AuditEventType, auditEventTypes } from '../../common/audit-event.js';
import { CanonicalJsonError, canonicalJson } from './chain.js';
import { InvalidAuditEventError, SecretInAuditDataError } from './errors.js';

/** Caps a single row so one bad event cannot bloat every export. */
export const MAX_DATA_CHARS = 256 * 1024;

const id = z.string().min(1).max(256);
const eventSchema = z.strictObject({
  eventId: id,
  occurredAt: z.iso.datetime({ offset: true }),
  grantId: id,
  type: z.enum(auditEventTypes),
  actor: id,
  actorEmail: z.string().max(320).optional(),
  roleId: z.string().max(256),
  requester: z.string().max(256),
  data: z.record(z.string(), z.unknown()),
});

/** The event as stored and hashed. */
export interface NormalizedEvent {
  eventId: string;
  occurredAt: string;
  grantId: string;
  type: AuditEventType;
  actor: string;
  actorEmail: string | null;
  roleId: string;
  requester: string;
  /** Canonical JSON of `data`. */
  dataJson: string;
}

// Normalised (lower case, letters and digits only) key shapes that name secret material.
const secretKey = (normalized: string) =>
  normalized.endsWith('token') ||
  normalized.endsWith('secret') ||
  normalized.includes('secretaccesskey') ||
  normalized.includes('password') ||
  normalized.includes('passwd') ||
  normalized.includes('privatekey');

/** Defence in depth for invariant 4: the workflow should never hand secrets over; refuse if it does. */
export function findSecretKey(value: unknown, path = 'data'): string | undefined {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = findSecretKey(item, `${path}[${i}]`);
      if (found) return found;
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (secretKey(key.toLowerCase().replace(/[^a-z0-9]/g, ''))) return `${path}.${key}`;
      const found = findSecretKey(item, `${path}.${key}`);
      if (found) return found;
    }
  }
  return undefined;
}

export function normalizeEvent(input: AuditEventInput): NormalizedEvent {
  const parsed = eventSchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'event'}: ${i.message}`);
    throw new InvalidAuditEventError(`invalid audit event: ${issues.join('; ')}`);
  }
  const event = parsed.data;
  const secret = findSecretKey(event.data);
  if (secret) throw new SecretInAuditDataError(secret);

  const occurredAt = new Date(event.occurredAt).toISOString();
  if (occurredAt.length !== 24) throw new InvalidAuditEventError('occurredAt: year out of range');
  let dataJson: string;
  try {
    dataJson = canonicalJson(event.data);
  } catch (err) {
    if (err instanceof CanonicalJsonError)
      throw new InvalidAuditEventError(`invalid audit event: ${err.message}`);
    throw err;
  }
  if (dataJson.length > MAX_DATA_CHARS) {
    throw new InvalidAuditEventError(`data is ${dataJson.length} characters; the limit is ${MAX_DATA_CHARS}`);
  }
  return {
    eventId: event.eventId,
    occurredAt,
    grantId: event.grantId,
    type: event.type,
    actor: event.actor,
    actorEmail: event.actorEmail ?? null,
    roleId: event.roleId,
    requester: event.requester,
    dataJson,
  };
}
