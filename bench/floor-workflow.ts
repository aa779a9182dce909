// The benchmark's floor: the least a workflow with one Update can cost on this Temporal server.
import { condition, defineUpdate, setHandler } from '@temporalio/workflow';

export const finishUpdate = defineUpdate<string, [string]>('finish');

/** Waits for one `finish` Update, answers it and completes. */
export async function floorWorkflow(): Promise<string> {
  let done = false;
  setHandler(finishUpdate, (value) => {
    done = true;
    return value;
  });
  await condition(() => done);
  return 'done';
}
