// The audit trail's event contract, shared by the grant workflow (which emits), the audit
// activity (the only writer) and the export/verify readers.

export const auditEventTypes = [
  'grant.requested',
  'grant.approval_recorded',
  'grant.denied',
  'grant.cancelled',
  'grant.timed_out',
  'grant.activated',
  'grant.credentials_issued',
  'grant.extension_requested',
  'grant.extension_denied',
  'grant.extension_timed_out',
  'grant.extended',
  'grant.revoked',
  'grant.expired',
  'grant.failed',
  'ledger.entries_added',
  'ledger.entries_removed',
] as const;

export type AuditEventType = (typeof auditEventTypes)[number];

/** One event as the workflow hands it to the audit activity. Never carries secrets. */
export interface AuditEventInput {
  /** `<workflow id>:<sequence in that workflow>`: retries of the activity write it once. */
  eventId: string;
  /** Workflow time of the transition, ISO 8601. */
  occurredAt: string;
  /** The grant (workflow id `grant-<ULID>`), or the ledger workflow id for ledger events. */
  grantId: string;
  type: AuditEventType;
  /** OIDC `sub` of the person who acted, or `system`. */
  actor: string;
  actorEmail?: string;
  roleId: string;
  /** The grant requester's `sub` (empty for ledger events). */
  requester: string;
  /** Type-specific detail: reason, ticket, approvals, session name, AccessKeyId, expiry, ledger entry. */
  data: Record<string, unknown>;
}
