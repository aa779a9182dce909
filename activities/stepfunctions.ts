// The Step Functions activities of a grant the queue door started: answer the waiting task, keep
// it alive while approvals are pending, and watch the execution. A task that stopped waiting is an
// answer, not an error; a refusal no retry can fix is non-retryable; outages are retried.
import { ApplicationFailure } from '@temporalio/common';
import type { TaskFailureInput, TaskSuccessInput } from '../common/activities.js';
import { StepFunctionsCallError, type StepFunctionsOperations } from '../integrations/stepfunctions.js';

async function asActivity<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof StepFunctionsCallError) {
      throw ApplicationFailure.create({ message: err.message, type: err.code, nonRetryable: err.permanent });
    }
    throw err;
  }
}

export function createStepFunctionsActivities({
  sfn,
}: {
  sfn: Pick<
    StepFunctionsOperations,
    'sendTaskHeartbeat' | 'sendTaskSuccess' | 'sendTaskFailure' | 'describeExecution'
  >;
}) {
  return {
    sendTaskHeartbeat: (args: { taskToken: string }) => asActivity(() => sfn.sendTaskHeartbeat(args)),
    sendTaskSuccess: (args: TaskSuccessInput) => asActivity(() => sfn.sendTaskSuccess(args)),
    sendTaskFailure: (args: TaskFailureInput) => asActivity(() => sfn.sendTaskFailure(args)),
    describeExecution: (args: { executionArn: string }) => asActivity(() => sfn.describeExecution(args)),
  };
}
