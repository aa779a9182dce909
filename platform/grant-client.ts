// How a front door sends a command to a grant workflow: it signs the decision (the workflow refuses
// anything unsigned), sends it as an Update with a caller-chosen update id (so retries count once),
// waits a bounded time, and turns every outcome into a result or one error with a stable code.
import { randomUUID } from 'node:crypto';
import {
  type Client,
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  type WorkflowHandle,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import { ApplicationFailure, type UpdateDefinition, WorkflowNotFoundError } from '@temporalio/common';
import proto from '@temporalio/proto';
import { type AssertionAction, type FrontDoor, START_UPDATE_ID } from '../common/assertion.js';
import type { GrantView, Principal } from '../common/grant.js';
import {
  awaitDecisionUpdate,
  type DoorRecord,
  type DoorRecordStart,
  doorRecordWorkflowType,
  type GrantRejection,
  type GrantRequestFields,
  type GrantStart,
  grantRejections,
  grantWorkflowType,
} from '../common/grant-messages.js';
import { JitRequester, JitRole, JitStatus } from '../common/search-attributes.js';
import type { AssertionSigner } from './assertion-signer.js';

// A CommonJS module: its namespaces are not named exports under ESM.
const { temporal } = proto;

/** Refusals and outcomes a caller can act on, by stable code (the API maps each to a status). */
export type GrantCommandCode =
  | GrantRejection
  | 'grant_not_found'
  /** No worker polls the task queue: nothing was sent; try again later. */
  | 'worker_unavailable'
  /** The grant did not answer in time; the command may still take effect, a retry with the same key is safe. */
  | 'grant_busy';

export class GrantCommandError extends Error {
  override name = 'GrantCommandError';
  constructor(
    readonly code: GrantCommandCode,
    message: string,
  ) {
    super(message);
  }
}

/** The start went through but its decision did not arrive in time: the grant exists under this id. */
export class GrantStartPendingError extends Error {
  override name = 'GrantStartPendingError';
  constructor(readonly grantId: string) {
    super(`grant ${grantId} was started; its decision is still pending`);
  }
}

/** Longer than any step a decision waits for (the STS local activity gives up after 9 s). */
const UPDATE_DEADLINE_MS = 15_000;
const DEADLINE_EXCEEDED = 4; // gRPC status
/**
 * A poller seen this recently counts. An idle worker's long poll lasts up to about a minute, so a
 * worker that died shows as gone only after this; until then a command waits for its deadline.
 */
const POLLER_FRESH_MS = 75_000;

/** A finished workflow takes no updates; what that means for each decision. */
const rejectionOnceEnded: Partial<Record<AssertionAction, GrantRejection>> = {
  approve: 'already_decided',
  deny: 'already_decided',
  cancel: 'grant_not_pending',
  revoke: 'grant_not_active',
  extend: 'grant_not_active',
  issueCredentials: 'grant_not_active',
  nudge: 'grant_not_pending',
  review: 'review_closed',
};

const isGrantRejection = (type: string | undefined | null): type is GrantRejection =>
  (grantRejections as readonly string[]).includes(type ?? '');

export interface Command<Args extends object> {
  grantId: string;
  /** The workflow that takes the command, when not the grant's own (a break-glass review). */
  workflowId?: string;
  action: AssertionAction;
  principal: Principal;
  verdict: { allowed: boolean; policyIds: string[] };
  /** Retries of one decision carry one id (e.g. derived from an Idempotency-Key); else a fresh one. */
  updateId?: string;
  args: Args;
  door?: FrontDoor;
}

export class GrantClient {
  private pollersCheckedAt = 0;
  private pollersSeen = true;

  constructor(
    private readonly deps: {
      client: Client;
      taskQueue: string;
      signer: AssertionSigner;
    },
  ) {}

  get client(): Client {
    return this.deps.client;
  }

  /**
   * Starts a grant and waits for its first decision in one call (update-with-start). A retry with
   * the same grant id and request digest attaches to the same start.
   */
  async start(
    principal: Principal,
    verdict: { allowed: boolean; policyIds: string[] },
    request: GrantRequestFields,
    door: FrontDoor = 'api',
  ): Promise<GrantView> {
    await this.assertWorkerPolls();
    const { client, taskQueue, signer } = this.deps;
    const body = { v: 2 as const, request };
    const assertion = await signer.sign(
      {
        grantId: request.grantId,
        action: 'request',
        principal,
        verdict,
        updateId: START_UPDATE_ID,
        args: body,
      },
      door,
    );
    const start: GrantStart = { ...body, assertion };
    const operation = new WithStartWorkflowOperation(grantWorkflowType, {
      workflowId: request.grantId,
      taskQueue,
      args: [start],
      workflowIdConflictPolicy: 'USE_EXISTING',
      // An ended grant keeps its id: a late retry finds it instead of starting it again.
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [
        { key: JitStatus, value: 'pending' },
        { key: JitRole, value: request.roleId },
        { key: JitRequester, value: principal.sub },
      ],
    });
    try {
      return await client.connection.withDeadline(Date.now() + UPDATE_DEADLINE_MS, () =>
        client.workflow.executeUpdateWithStart(awaitDecisionUpdate, {
          args: [{ ...(request.requestDigest ? { requestDigest: request.requestDigest } : {}) }],
          startWorkflowOperation: operation,
          // Same body, same update: a retry attaches; another body under the same key is refused.
          updateId: `request:${request.requestDigest ?? request.grantId}`,
        }),
      );
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        throw new GrantCommandError('already_decided', 'this grant has already ended');
      }
      const rejection = rejectionOf(err);
      if (rejection) throw rejection;
      if (isTimeout(err)) {
        const started = await operation.workflowHandle().then(
          () => true,
          () => false,
        );
        if (started) throw new GrantStartPendingError(request.grantId);
        throw new GrantCommandError(
          'grant_busy',
          'the broker did not answer in time; retry with the same key',
        );
      }
      throw err;
    }
  }

  /** Signs and sends one decision; resolves with the workflow's own answer. */
  async send<Ret, Args extends object>(
    update: UpdateDefinition<Ret, [Args & { assertion: string }]>,
    command: Command<Args>,
  ): Promise<Ret> {
    await this.assertWorkerPolls();
    const updateId = command.updateId ?? randomUUID();
    const assertion = await this.deps.signer.sign(
      {
        grantId: command.grantId,
        action: command.action,
        principal: command.principal,
        verdict: command.verdict,
        updateId,
        args: command.args as Record<string, unknown>,
      },
      command.door,
    );
    const handle = this.deps.client.workflow.getHandle(command.workflowId ?? command.grantId);
    try {
      // An update that reaches a grant just as its workflow closes can wait for an outcome that
      // never comes; the deadline turns that into the answers below.
      return await this.deps.client.connection.withDeadline(Date.now() + UPDATE_DEADLINE_MS, () =>
        handle.executeUpdate(update, { args: [{ ...command.args, assertion }], updateId }),
      );
    } catch (err) {
      const rejection = rejectionOf(err);
      if (rejection) throw rejection;
      if (isTimeout(err)) {
        if (await closed(handle)) throw ended(command.action);
        throw new GrantCommandError(
          'grant_busy',
          'the grant did not answer in time; retry with the same key',
        );
      }
      if (err instanceof WorkflowNotFoundError) {
        // Either no such grant, or one that has ended (its workflow closed and takes no updates).
        const exists = await handle.describe().then(
          () => true,
          () => false,
        );
        if (!exists) throw new GrantCommandError('grant_not_found', 'no such grant');
        throw ended(command.action);
      }
      throw err;
    }
  }

  /**
   * Records an audit event of the front door's own (workflows/door-record.ts), signed like a start
   * for `action`; resolves once the event is in the audit trail. The same id records once.
   */
  async recordDoorEvent(
    principal: Principal,
    action: AssertionAction,
    verdict: { allowed: boolean; policyIds: string[] },
    record: DoorRecord,
    door: FrontDoor = 'api',
  ): Promise<void> {
    await this.assertWorkerPolls();
    const { client, taskQueue, signer } = this.deps;
    const body = { v: 1 as const, record };
    const assertion = await signer.sign(
      { grantId: record.id, action, principal, verdict, updateId: START_UPDATE_ID, args: body },
      door,
    );
    const start: DoorRecordStart = { ...body, assertion };
    try {
      await client.connection.withDeadline(Date.now() + UPDATE_DEADLINE_MS, () =>
        client.workflow.execute(doorRecordWorkflowType, {
          workflowId: record.id,
          taskQueue,
          args: [start],
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        }),
      );
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return;
      if (isTimeout(err))
        throw new GrantCommandError('grant_busy', 'the broker did not answer in time; try again');
      throw err;
    }
  }

  /**
   * Whether a worker polls the grant task queue (Temporal tracks pollers). Without one a command
   * would only wait; refuse it at once instead. Checked at most every 2 s.
   */
  async workerPolls(): Promise<boolean> {
    // A yes is cached briefly; a no is asked again, so a worker that just started counts at once.
    if (this.pollersSeen && Date.now() - this.pollersCheckedAt < 2_000) return true;
    const { client, taskQueue } = this.deps;
    const { pollers } = await client.workflowService.describeTaskQueue({
      namespace: client.options.namespace,
      taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    const now = Date.now();
    this.pollersSeen = (pollers ?? []).some((p) => {
      const seconds = Number(p.lastAccessTime?.seconds ?? 0);
      return now - seconds * 1000 < POLLER_FRESH_MS;
    });
    this.pollersCheckedAt = now;
    return this.pollersSeen;
  }

  private async assertWorkerPolls(): Promise<void> {
    if (!(await this.workerPolls()))
      throw new GrantCommandError('worker_unavailable', 'no broker worker is running; try again shortly');
  }
}

function rejectionOf(err: unknown): GrantCommandError | undefined {
  if (
    err instanceof WorkflowUpdateFailedError &&
    err.cause instanceof ApplicationFailure &&
    isGrantRejection(err.cause.type)
  ) {
    return new GrantCommandError(err.cause.type, err.cause.message);
  }
  return undefined;
}

const isTimeout = (err: unknown) =>
  (err as { code?: number }).code === DEADLINE_EXCEEDED ||
  err instanceof WorkflowUpdateRPCTimeoutOrCancelledError;

const closed = (handle: WorkflowHandle) =>
  handle.describe().then(
    (d) => d.status.name !== 'RUNNING',
    () => false,
  );

const ended = (action: AssertionAction) =>
  new GrantCommandError(rejectionOnceEnded[action] ?? 'already_decided', 'the grant has ended');
