// A grant the Step Functions queue door started answers the Task state waiting for it
// (`.waitForTaskToken`): heartbeats while approvals are pending (when the state sets
// HeartbeatSeconds), SendTaskSuccess once active, SendTaskFailure with a stable error name if it
// ends without. It also watches the execution: a state machine that stops waiting (stopped, timed
// out, failed, or a callback answered TaskTimedOut/InvalidToken) cancels the pending grant or
// revokes the active one, through the normal end, with the reason in the audit trail.
import { ActivityFailure, condition, log } from '@temporalio/workflow';
import type { StepFunctionsTask } from '../../common/grant-messages.js';
import { handoffErrorOf } from '../../common/handoff.js';
import { describeExecution, sendTaskFailure, sendTaskHeartbeat, sendTaskSuccess } from './activities.js';
import type { GrantState } from './state.js';

/** An activity that failed after its retries (Step Functions away, a permission missing): logged, not fatal. */
async function attempt<T>(what: string, call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    log.warn('Step Functions call abandoned', { call: what, error: err.cause?.message ?? err.message });
    return undefined;
  }
}

export class StepFunctionsHandoff {
  private readonly done: Promise<void>;
  /** The task stopped waiting: nothing more to tell it. */
  private stopped = false;

  constructor(
    private readonly grant: GrantState,
    private readonly task: StepFunctionsTask,
  ) {
    this.done = this.follow();
  }

  /** Resolves once the state machine has its answer and the grant has ended. */
  finished(): Promise<void> {
    return this.done;
  }

  private stop(status: 'cancelled' | 'revoked', why: string): void {
    this.stopped = true;
    this.grant.end(status, `the Step Functions execution stopped waiting: ${why}`, 'system');
  }

  /** False when the execution no longer runs (and the grant was ended for it). */
  private async stillRunning(status: 'cancelled' | 'revoked'): Promise<boolean> {
    const execution = await attempt('DescribeExecution', () =>
      describeExecution({ executionArn: this.task.executionArn }),
    );
    if (!execution || execution.status === 'RUNNING') return true;
    this.stop(status, `${this.task.executionArn} is ${execution.status}`);
    return false;
  }

  private async follow(): Promise<void> {
    const { grant, task } = this;
    const watchMs = task.watchSeconds * 1000;
    // Three heartbeats per HeartbeatSeconds: one late or lost one does not time the task out.
    const heartbeatMs = task.heartbeatSeconds ? Math.max(1000, (task.heartbeatSeconds * 1000) / 3) : Infinity;

    // 1. Pending: keep the task alive and check the execution still waits.
    let nextHeartbeat = Date.now() + heartbeatMs;
    let nextWatch = Date.now() + watchMs;
    while (grant.status === 'pending') {
      const wakeAt = Math.min(nextHeartbeat, nextWatch);
      if (await condition(() => grant.status !== 'pending', Math.max(wakeAt - Date.now(), 1))) break;
      if (Date.now() >= nextHeartbeat) {
        const beat = await attempt('SendTaskHeartbeat', () =>
          sendTaskHeartbeat({ taskToken: task.taskToken }),
        );
        if (beat && !beat.delivered && grant.status === 'pending') this.stop('cancelled', beat.stopped);
        nextHeartbeat = Date.now() + heartbeatMs;
      }
      if (grant.status === 'pending' && Date.now() >= nextWatch) {
        await this.stillRunning('cancelled');
        nextWatch = Date.now() + watchMs;
      }
    }

    // 2. Active: tell the state machine once the read model shows it (a later step reads it), then
    // watch the execution for as long as the grant runs.
    if (grant.status === 'active') {
      await grant.flushed();
      const view = grant.view;
      if (grant.status === 'active' && grant.role && view.expiresAt) {
        const answer = await attempt('SendTaskSuccess', () =>
          sendTaskSuccess({
            taskToken: task.taskToken,
            output: {
              grantId: grant.id,
              status: 'active',
              expiresAt: view.expiresAt as string,
              roleArn: grant.role?.arn ?? '',
            },
          }),
        );
        if (answer && !answer.delivered && grant.status === 'active') this.stop('revoked', answer.stopped);
        if (answer?.delivered) this.stopped = true; // answered: the task is done
        while (grant.status === 'active') {
          if (await condition(() => grant.status !== 'active', watchMs)) break;
          await this.stillRunning('revoked');
        }
      }
    }

    // 3. Ended without the state machine hearing it was active: say why, once the end is recorded.
    await condition(() => grant.endedAt !== undefined);
    if (this.stopped) return;
    const ending = grant.ending;
    await attempt('SendTaskFailure', () =>
      sendTaskFailure({
        taskToken: task.taskToken,
        error: handoffErrorOf(ending),
        cause: ending?.reason ?? 'the grant ended',
      }),
    );
  }
}

/** Starts following the Step Functions task of a grant the queue door started; undefined otherwise. */
export function followStepFunctions(grant: GrantState): StepFunctionsHandoff | undefined {
  const task = grant.request.stepFunctions;
  return task ? new StepFunctionsHandoff(grant, task) : undefined;
}
