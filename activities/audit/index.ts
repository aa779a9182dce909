// The audit activity: the only writer of the audit trail. Input problems become non-retryable
// failures the workflow sees; anything else (the database being away) is thrown as is, so
// Temporal retries it, and the idempotent append makes the retry write at most once.
import { ApplicationFailure } from '@temporalio/common';
import type { AuditEventInput } from '../../common/audit-event.js';
import { AuditStoreError } from './errors.js';
import type { AuditStore } from './store.js';

export function createAuditActivities({ store }: { store: Pick<AuditStore, 'append'> }) {
  return {
    async recordAuditEvent(event: AuditEventInput): Promise<void> {
      try {
        await store.append(event);
      } catch (err) {
        if (err instanceof AuditStoreError && err.nonRetryable) {
          throw ApplicationFailure.nonRetryable(err.message, err.code);
        }
        throw err;
      }
    },
  };
}

export type AuditActivities = ReturnType<typeof createAuditActivities>;
