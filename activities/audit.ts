// The audit activities: the only writers of the audit trail (and, in the same transaction, of the
// grants read model). Input problems become non-retryable failures the workflow sees; anything
// else (the database being away) is thrown as is, so Temporal retries it, and the idempotent
// append makes the retry write each event at most once.
import { ApplicationFailure } from '@temporalio/common';
import type { AuditEventInput } from '../common/audit-event.js';
import { AuditStoreError } from '../store/errors.js';
import type { AppendResult, AuditStore } from '../store/index.js';

/** Sees every append (the worker's metrics): its time, and which events it wrote. */
export interface AuditObserver {
  timeAppend<T>(append: () => Promise<T>): Promise<T>;
  appended(events: readonly AuditEventInput[], results: readonly AppendResult[]): Promise<void>;
}

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

export function createAuditActivities({
  store,
  observer,
}: {
  store: Pick<AuditStore, 'appendBatch'>;
  observer?: AuditObserver | undefined;
}) {
  const append = async (events: AuditEventInput[]) => {
    if (!observer) return void (await asActivity(() => store.appendBatch(events)));
    const results = await observer.timeAppend(() => asActivity(() => store.appendBatch(events)));
    await observer.appended(events, results);
  };
  return {
    async recordAuditEvents(events: AuditEventInput[]): Promise<void> {
      await append(events);
    },
    async recordAuditEvent(event: AuditEventInput): Promise<void> {
      await append([event]);
    },
  };
}
