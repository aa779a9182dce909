import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { grantReconcilerWorkflowType, reconcilerWorkflowId } from '../common/grant-messages.js';
import { withAssertionKeys } from './assertion-keys-prelude.js';

/** The workflows' entry beside this file: index.ts in the sources, index.js in dist/. */
export const workflowsPath = fileURLToPath(
  new URL(`../workflows/index${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url),
);

/** The workflow tracing interceptors beside the workflows (bundled through workflowInterceptorModules). */
export const workflowInterceptorsPath = fileURLToPath(
  new URL(`../workflows/tracing${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url),
);

/** The broker's worker: the grant and revocation-ledger workflows plus every activity, on one task queue. */
export function createBrokerWorker(opts: {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: object;
  dataConverter: DataConverter;
  /** The workflow bundle (prebuilt, or built at start by worker/bundle.ts). */
  workflowBundle: { code: string };
  /** `kid:base64,...`: public keys of the front doors whose signed assertions workflows accept. */
  assertionVerifyKeys: string;
  /** Sticky cache size; the SDK's default grows with the heap limit (thousands of workflows here). */
  maxCachedWorkflows?: number;
  /** After SIGTERM: how long (ms) running activities may go on before they are cancelled. */
  shutdownGraceTime?: number;
  /** After SIGTERM: when (ms) the worker gives up waiting and stops anyway. */
  shutdownForceTime?: number;
  /** Activity interceptors (metrics, tracing). */
  interceptors?: WorkerOptions['interceptors'];
  /** The sink workflow spans leave through (a traced workflow calls it even when this worker does not trace). */
  tracingSinks?: WorkerOptions['sinks'];
}): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    activities: opts.activities,
    dataConverter: opts.dataConverter,
    // After a worker crash its sticky queue holds the next task until this passes; keep expiries on time.
    stickyQueueScheduleToStartTimeout: '3s',
    ...(opts.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: opts.maxCachedWorkflows } : {}),
    ...(opts.shutdownGraceTime !== undefined ? { shutdownGraceTime: opts.shutdownGraceTime } : {}),
    ...(opts.shutdownForceTime !== undefined ? { shutdownForceTime: opts.shutdownForceTime } : {}),
    ...(opts.interceptors ? { interceptors: opts.interceptors } : {}),
    ...(opts.tracingSinks ? { sinks: opts.tracingSinks } : {}),
    workflowBundle: withAssertionKeys(opts.workflowBundle, opts.assertionVerifyKeys),
  });
}

/** Starts the queue's reconciler unless it runs already (every worker asks; one runs). */
export async function startReconciler(
  client: Client,
  taskQueue: string,
  intervalSeconds: number,
): Promise<void> {
  await client.workflow.start(grantReconcilerWorkflowType, {
    taskQueue,
    workflowId: reconcilerWorkflowId(taskQueue),
    args: [{ intervalSeconds }],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
}
