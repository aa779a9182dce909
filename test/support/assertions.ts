import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import { GrantRejectedError } from '../../common/grant-client.js';

/** Polls until `check` returns a value that is not undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

const acceptedUpdates = async (grant: WorkflowHandle) =>
  ((await grant.fetchHistory()).events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes)
    .length;

/** Asserts an update is rejected by its validator with this code, so no update reached the history. */
export async function rejectsWith(
  grant: WorkflowHandle,
  code: string,
  call: () => Promise<unknown>,
): Promise<void> {
  const before = await acceptedUpdates(grant);
  await assert.rejects(call, (err: Error) => {
    assert.ok(err instanceof GrantRejectedError, `expected a GrantRejectedError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  });
  assert.equal(await acceptedUpdates(grant), before, 'a rejected update must write no history');
}
