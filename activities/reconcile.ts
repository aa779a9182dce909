// The reconciler: a grant whose workflow closed without recording its end (terminated or reset by
// hand in Temporal, or failed) still ends properly. Its live sessions go to the role's revocation
// ledger and the audit trail records the end, saying what happened. The read model names the open
// grants; Temporal says whether their workflows still run (an operator's process, not a read path).
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import type { AuditEventInput } from '../common/audit-event.js';
import type { EndedStatus, LedgerEntry } from '../common/grant.js';
import type { AwsOperations } from '../integrations/aws.js';
import type { PolicyEngine } from '../policies/engine.js';
import type { AuditStore } from '../store/index.js';

export interface ReconcileDeps {
  store: Pick<AuditStore, 'grants' | 'appendBatch'>;
  client: Client;
  aws: Pick<AwsOperations, 'roleId'>;
  engine: Pick<PolicyEngine, 'role'>;
  coverSessions(args: { roleArn: string; entries: LedgerEntry[] }): Promise<void>;
}

export function createReconcileActivities(deps: ReconcileDeps) {
  return {
    /** One pass over the open grants; returns the ids it ended. */
    async reconcileGrants(): Promise<{ checked: number; ended: string[] }> {
      const ended: string[] = [];
      let checked = 0;
      let after = '';
      for (;;) {
        const ids = await deps.store.grants.openIds(200, after);
        if (ids.length === 0) break;
        after = ids.at(-1) as string;
        for (const id of ids) {
          checked += 1;
          if (await reconcileOne(deps, id)) ended.push(id);
        }
      }
      return { checked, ended };
    },
  };
}

async function workflowStatus(client: Client, id: string): Promise<string> {
  try {
    return (await client.workflow.getHandle(id).describe()).status.name;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return 'NOT_FOUND';
    throw err;
  }
}

async function reconcileOne(deps: ReconcileDeps, id: string): Promise<boolean> {
  const status = await workflowStatus(deps.client, id);
  if (status === 'RUNNING' || status === 'CONTINUED_AS_NEW') return false;
  // Read again: a grant that ended normally between the two reads is left alone.
  const view = await deps.store.grants.get(id);
  if (!view || view.endedAt) return false;

  const now = Date.now();
  const roleArn = view.role.arn ?? deps.engine.role(view.role.id)?.arn;
  const live: { sessionName: string; entry: LedgerEntry }[] = [];
  for (const event of await deps.store.grants.events(id)) {
    if (event.type !== 'grant.credentials_issued') continue;
    const data = JSON.parse(event.data) as {
      sessionName?: string;
      expiresAt?: string;
      assumedRoleId?: string;
    };
    if (!data.sessionName || !data.expiresAt || Date.parse(data.expiresAt) <= now) continue;
    // Grants of the first workflow version did not record the role id: ask IAM.
    const assumedRoleId =
      data.assumedRoleId ?? (roleArn ? `${await deps.aws.roleId(roleArn)}:${data.sessionName}` : undefined);
    if (assumedRoleId)
      live.push({
        sessionName: data.sessionName,
        entry: { grantId: id, assumedRoleId, expiresAt: data.expiresAt },
      });
  }
  if (live.length > 0 && roleArn) await deps.coverSessions({ roleArn, entries: live.map((s) => s.entry) });

  const endStatus: EndedStatus =
    view.status === 'pending'
      ? 'cancelled'
      : view.expiresAt && Date.parse(view.expiresAt) <= now
        ? 'expired'
        : 'revoked';
  const event: AuditEventInput = {
    eventId: `${id}:reconciled`,
    occurredAt: new Date(now).toISOString(),
    grantId: id,
    type: `grant.${endStatus}`,
    actor: 'system',
    roleId: view.role.id,
    requester: view.requester.sub,
    data: {
      reason: `the grant's workflow was ${status.toLowerCase().replace(/_/g, ' ')} outside the broker; the reconciler ended the grant`,
      sessionsDenied: live.map((s) => s.sessionName),
      reconciled: true,
    },
  };
  await deps.store.appendBatch([event]);
  return true;
}
