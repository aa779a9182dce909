// Ends grants whose workflows closed without recording their end (activities/reconcile.ts), on a
// durable timer: one long-running workflow per task queue, continued as new to keep history short.
import { continueAsNew, proxyActivities, sleep } from '@temporalio/workflow';
import type { BrokerActivities } from '../common/activities.js';

const { reconcileGrants } = proxyActivities<BrokerActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '5 seconds', maximumInterval: '1 minute' },
});

export async function grantReconcilerWorkflow(input: { intervalSeconds: number }): Promise<void> {
  for (let round = 0; round < 500; round++) {
    await reconcileGrants();
    await sleep(input.intervalSeconds * 1000);
  }
  await continueAsNew<typeof grantReconcilerWorkflow>(input);
}
