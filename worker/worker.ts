import { fileURLToPath } from 'node:url';
import { type NativeConnection, Worker } from '@temporalio/worker';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/** The broker's worker: the grant workflows plus every activity, on one task queue. */
export function createBrokerWorker(opts: {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: object;
  workflowsPath?: string;
}): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    workflowsPath: opts.workflowsPath ?? workflowsPath,
    activities: opts.activities,
  });
}
