// Sends a decision to a grant workflow and turns every refusal into one error with a stable code,
// for the API, the Slack handler and tests alike.
import {
  type WorkflowHandle,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import { type GrantRejection, grantRejections } from './grant-messages.js';

export class GrantRejectedError extends Error {
  override name = 'GrantRejectedError';
  constructor(
    readonly code: GrantRejection | 'grant_not_found',
    message: string,
  ) {
    super(message);
  }
}

const UPDATE_DEADLINE_MS = 20_000;
const DEADLINE_EXCEEDED = 4; // gRPC status

/** A finished workflow takes no updates; what that means for each decision. */
const rejectionOnceEnded: Record<string, GrantRejection> = {
  approve: 'already_decided',
  deny: 'already_decided',
  cancel: 'grant_not_pending',
  revoke: 'grant_not_active',
  extend: 'grant_not_active',
  issueCredentials: 'grant_not_active',
};

const isGrantRejection = (type: string | undefined | null): type is GrantRejection =>
  (grantRejections as readonly string[]).includes(type ?? '');

export async function executeGrantUpdate<Ret, Arg>(
  grant: WorkflowHandle,
  update: UpdateDefinition<Ret, [Arg]>,
  arg: Arg,
  updateId?: string,
): Promise<Ret> {
  try {
    // An update that reaches a grant just as its workflow closes can wait for an outcome that never
    // comes; a deadline turns that into the answer below.
    return await grant.client.connection.withDeadline(Date.now() + UPDATE_DEADLINE_MS, () =>
      grant.executeUpdate(update, { args: [arg], ...(updateId ? { updateId } : {}) }),
    );
  } catch (err) {
    if (
      err instanceof WorkflowUpdateFailedError &&
      err.cause instanceof ApplicationFailure &&
      isGrantRejection(err.cause.type)
    ) {
      throw new GrantRejectedError(err.cause.type, err.cause.message);
    }
    const timedOut =
      (err as { code?: number }).code === DEADLINE_EXCEEDED ||
      err instanceof WorkflowUpdateRPCTimeoutOrCancelledError;
    if (timedOut) {
      const closed = await grant.describe().then(
        (d) => d.status.name !== 'RUNNING',
        () => false,
      );
      if (closed)
        throw new GrantRejectedError(
          rejectionOnceEnded[update.name] ?? 'already_decided',
          'the grant has ended',
        );
      throw err;
    }
    if (err instanceof WorkflowNotFoundError) {
      // Either no such grant, or one that has ended (its workflow closed and takes no updates).
      const exists = await grant.describe().then(
        () => true,
        () => false,
      );
      if (!exists) throw new GrantRejectedError('grant_not_found', 'no such grant');
      throw new GrantRejectedError(
        rejectionOnceEnded[update.name] ?? 'already_decided',
        'the grant has ended',
      );
    }
    throw err;
  }
}
