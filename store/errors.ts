// Typed failures of the audit store. `nonRetryable` marks input errors: retrying the same event
// can never succeed, so the activity turns them into non-retryable Temporal failures.

export abstract class AuditStoreError extends Error {
  abstract readonly code: string;
  readonly nonRetryable: boolean = false;
}

/** The event does not match the contract in common/audit-event.ts. */
export class InvalidAuditEventError extends AuditStoreError {
  override name = 'InvalidAuditEventError';
  readonly code = 'audit_event_invalid';
  override readonly nonRetryable = true;
}

/** `data` carries a key that looks like secret material (invariant 4); nothing was written. */
export class SecretInAuditDataError extends AuditStoreError {
  override name = 'SecretInAuditDataError';
  readonly code = 'audit_data_secret';
  override readonly nonRetryable = true;
  constructor(readonly keyPath: string) {
    super(`audit event data must not carry secrets: refused key ${keyPath}`);
  }
}

/** An event id already recorded with different content: a retry must carry the same event. */
export class AuditEventConflictError extends AuditStoreError {
  override name = 'AuditEventConflictError';
  readonly code = 'audit_event_conflict';
  override readonly nonRetryable = true;
  constructor(readonly eventId: string) {
    super(`audit event ${eventId} is already recorded with different content`);
  }
}

/** The store URL is neither a postgres:// URL nor an SQLite path / sqlite: URL. */
export class AuditStoreUrlError extends AuditStoreError {
  override name = 'AuditStoreUrlError';
  readonly code = 'audit_store_url_invalid';
}

/** Schema migrations failed at open. */
export class AuditMigrationError extends AuditStoreError {
  override name = 'AuditMigrationError';
  readonly code = 'audit_migration_failed';
}

/** An export filter that cannot be applied (e.g. an invalid date). */
export class InvalidAuditFilterError extends AuditStoreError {
  override name = 'InvalidAuditFilterError';
  readonly code = 'audit_filter_invalid';
  override readonly nonRetryable = true;
}
