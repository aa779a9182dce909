import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';

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

/** Asserts a decision is refused with this code (ApiError or GrantCommandError) and left no update in history. */
export async function rejectsWith(
  grant: WorkflowHandle,
  code: string,
  call: () => Promise<unknown>,
): Promise<void> {
  const before = await acceptedUpdates(grant);
  await assert.rejects(call, (err: Error) => {
    assert.equal(
      (err as { code?: string }).code,
      code,
      `expected a refusal with code ${code}, got ${String(err)}`,
    );
    return true;
  });
  assert.equal(await acceptedUpdates(grant), before, 'a rejected update must write no history');
}
