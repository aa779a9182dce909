// Hands sessions to a role's revocation ledger workflow (signal-with-start through the Temporal client).
import type { Client } from '@temporalio/client';
import type { LedgerEntry } from '../common/grant.js';
import {
  coverSessionsSignal,
  ledgerWorkflowId,
  revocationLedgerWorkflowType,
} from '../common/grant-messages.js';

export function createLedgerActivities({ client, taskQueue }: { client: Client; taskQueue: string }) {
  return {
    async coverSessions({ roleArn, entries }: { roleArn: string; entries: LedgerEntry[] }): Promise<void> {
      await client.workflow.signalWithStart(revocationLedgerWorkflowType, {
        workflowId: ledgerWorkflowId(roleArn),
        taskQueue,
        args: [{ roleArn }],
        signal: coverSessionsSignal,
        signalArgs: [entries],
      });
    },
  };
}
