// The audit activities: the only writers of the audit trail (and, in the same transaction, of the
// grants read model). Input problems become non-retryable failures the workflow sees; anything
// else (the database being away) is thrown as is, so Temporal retries it, and the idempotent
// append makes the retry write each event at most once.
import { ApplicationFailure } from '@temporalio/common';
import type { AuditEventInput } from '../common/audit-event.js';
import { AuditStoreError } from '../store/errors.js';
import type { AuditStore } from '../store/index.js';

async function asActivity<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof AuditStoreError && err.nonRetryable) {
      throw ApplicationFailure.nonRetryable(err.message, err.code);
    }
    throw err;
  }
}

export function createAuditActivities({ store }: { store: Pick<AuditStore, 'appendBatch'> }) {
  return {
    async recordAuditEvents(events: AuditEventInput[]): Promise<void> {
      await asActivity(() => store.appendBatch(events));
    },
    async recordAuditEvent(event: AuditEventInput): Promise<void> {
      await asActivity(() => store.appendBatch([event]));
    },
  };
}
