// Every call to AWS Step Functions goes through here: the task callbacks a grant answers a waiting
// state machine with, and what the broker asks about an execution. Task tokens are bearer
// capabilities: they are sent to Step Functions and nowhere else (no log line, no error text).
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import type { TaskCallbackResult, TaskFailureInput, TaskSuccessInput } from '../common/activities.js';
import type { AwsClientOptions } from './aws.js';
import { traceAwsCalls } from './aws-tracing.js';

export function createStepFunctionsClient(opts: AwsClientOptions): SFNClient {
  return traceAwsCalls(
    new SFNClient({ region: opts.region, ...(opts.endpoint ? { endpoint: opts.endpoint } : {}) }),
  );
}

/**
 * The task no longer waits: final, never retried. AWS says TaskTimedOut (the state timed out or the
 * execution stopped) or InvalidToken; moto also says TaskDoesNotExist (README, "Step Functions").
 */
const STOPPED = new Set(['TaskTimedOut', 'InvalidToken', 'TaskDoesNotExist']);

/** Step Functions refused a call for good (not a task that stopped waiting): a bug or missing permission. */
export class StepFunctionsCallError extends Error {
  override name = 'StepFunctionsCallError';
  constructor(
    readonly code: string,
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

const PERMANENT = new Set(['AccessDeniedException', 'ValidationException', 'InvalidArn', 'InvalidOutput']);

async function callback(what: string, send: () => Promise<unknown>): Promise<TaskCallbackResult> {
  try {
    await send();
    return { delivered: true };
  } catch (err) {
    const name = err instanceof Error ? err.name : '';
    if (STOPPED.has(name)) return { delivered: false, stopped: name };
    // The SDK's message never contains the token; keep only it.
    const message = err instanceof Error ? err.message : String(err);
    throw new StepFunctionsCallError(name || 'Error', `${what}: ${message}`, PERMANENT.has(name));
  }
}

export function stepFunctionsOperations(sfn: SFNClient) {
  return {
    sendTaskHeartbeat: ({ taskToken }: { taskToken: string }) =>
      callback('SendTaskHeartbeat', () => sfn.send(new SendTaskHeartbeatCommand({ taskToken }))),

    sendTaskSuccess: ({ taskToken, output }: TaskSuccessInput) =>
      callback('SendTaskSuccess', () =>
        sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) })),
      ),

    sendTaskFailure: ({ taskToken, error, cause }: TaskFailureInput) =>
      callback('SendTaskFailure', () =>
        // Step Functions limits error to 256 and cause to 32,768 characters.
        sfn.send(
          new SendTaskFailureCommand({
            taskToken,
            error: error.slice(0, 256),
            cause: cause.slice(0, 32_768),
          }),
        ),
      ),

    async describeExecution({ executionArn }: { executionArn: string }): Promise<{ status: string }> {
      try {
        const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
        return { status: out.status ?? 'UNKNOWN' };
      } catch (err) {
        const name = err instanceof Error ? err.name : '';
        // An execution that no longer exists (history expired) is not running.
        if (name === 'ExecutionDoesNotExist') return { status: 'DOES_NOT_EXIST' };
        throw new StepFunctionsCallError(
          name || 'Error',
          `DescribeExecution: ${err instanceof Error ? err.message : String(err)}`,
          PERMANENT.has(name),
        );
      }
    },

    /** The role an execution's state machine runs as: the queue door checks it sent the message. */
    async executionRole(executionArn: string): Promise<{ roleArn: string; status: string } | undefined> {
      try {
        const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
        if (!execution.stateMachineArn) return undefined;
        const machine = await sfn.send(
          new DescribeStateMachineCommand({ stateMachineArn: execution.stateMachineArn }),
        );
        return machine.roleArn
          ? { roleArn: machine.roleArn, status: execution.status ?? 'UNKNOWN' }
          : undefined;
      } catch (err) {
        const name = err instanceof Error ? err.name : '';
        if (name === 'ExecutionDoesNotExist' || name === 'InvalidArn' || name === 'StateMachineDoesNotExist')
          return undefined;
        throw err;
      }
    },
  };
}

export type StepFunctionsOperations = ReturnType<typeof stepFunctionsOperations>;
