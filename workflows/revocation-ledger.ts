// One per IAM role: the only writer of the role's deny policy, so concurrent revocations never lose
// an entry. Entries leave once the credentials they cover have expired.
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { BrokerActivities, RevocationPolicyInput } from '../common/activities.js';
import type { AuditEventInput } from '../common/audit-event.js';
import type { LedgerEntry } from '../common/grant.js';
import { coverSessionsSignal, type LedgerState, ledgerStateQuery } from '../common/grant-messages.js';
import { roleNameFromArn } from '../common/revocation-policy.js';

const remote = proxyActivities<BrokerActivities>({
  startToCloseTimeout: '20 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '30 seconds' },
});
// From this release the IAM write and its audit row run as local activities: a revocation reaches
// IAM without a round trip through the server. Older ledgers keep the activities they started with.
const local = proxyLocalActivities<BrokerActivities>({
  startToCloseTimeout: '20 seconds',
  localRetryThreshold: '10 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '30 seconds' },
});
const LOCAL_ACTIVITIES_PATCH = 'ledger-local-activities';
const writeRevocationPolicy = (input: RevocationPolicyInput) =>
  patched(LOCAL_ACTIVITIES_PATCH) ? local.writeRevocationPolicy(input) : remote.writeRevocationPolicy(input);
const recordAuditEvent = (event: AuditEventInput) =>
  patched(LOCAL_ACTIVITIES_PATCH) ? local.recordAuditEvents([event]) : remote.recordAuditEvent(event);

/** Started by signal-with-start with only `roleArn`; the state is carried over by continue-as-new. */
export interface LedgerInput extends Partial<LedgerState> {
  roleArn: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

export async function revocationLedgerWorkflow(input: LedgerInput): Promise<void> {
  const { roleArn } = input;
  const roleId = roleNameFromArn(roleArn);
  const entries = new Map((input.entries ?? []).map((e) => [e.assumedRoleId, e]));
  let issuedBefore = input.issuedBefore;
  let incoming: LedgerEntry[] = [];

  let auditSeq = 0;
  const audit = (type: 'ledger.entries_added' | 'ledger.entries_removed', data: Record<string, unknown>) =>
    recordAuditEvent({
      eventId: `${workflowInfo().workflowId}:${workflowInfo().runId}:${++auditSeq}`,
      occurredAt: iso(Date.now()),
      grantId: workflowInfo().workflowId,
      type,
      actor: 'system',
      roleId,
      requester: '',
      data,
    });

  setHandler(coverSessionsSignal, (batch) => {
    // A refused (plaintext or forged) signal arrives as a marker, not entries: nothing to cover.
    if (!Array.isArray(batch)) return;
    incoming.push(...batch);
  });
  setHandler(ledgerStateQuery, () => ({
    entries: [...entries.values()],
    ...(issuedBefore ? { issuedBefore } : {}),
  }));

  // Signal-with-start delivers the first batch just after this function starts.
  await condition(() => incoming.length > 0 || entries.size > 0 || issuedBefore !== undefined);

  for (;;) {
    const now = Date.now();
    const added = incoming.filter((e) => Date.parse(e.expiresAt) > now);
    incoming = [];
    for (const e of added) {
      const known = entries.get(e.assumedRoleId);
      if (!known || known.expiresAt < e.expiresAt) entries.set(e.assumedRoleId, e);
    }
    const removed = [...entries.values()].filter((e) => Date.parse(e.expiresAt) <= now);
    for (const e of removed) entries.delete(e.assumedRoleId);
    const cutoffLapsed = issuedBefore !== undefined && Date.parse(issuedBefore.until) <= now;
    if (cutoffLapsed) issuedBefore = undefined;

    if (added.length > 0 || removed.length > 0 || cutoffLapsed) {
      let result = await writeRevocationPolicy({
        roleArn,
        entries: [...entries.values()],
        ...(issuedBefore ? { issuedBefore: issuedBefore.at } : {}),
      });
      if (!result.written) {
        // Too many entries for IAM's inline policy limit: deny every session issued until now
        // instead. Over-broad (other grants' holders must fetch new credentials) but never under-broad.
        const until = [...entries.values()].reduce(
          (latest, e) => Math.max(latest, Date.parse(e.expiresAt)),
          issuedBefore ? Date.parse(issuedBefore.until) : 0,
        );
        issuedBefore = { at: iso(now), until: iso(until) };
        entries.clear();
        result = await writeRevocationPolicy({ roleArn, entries: [], issuedBefore: issuedBefore.at });
        // Only if the role's other inline policies nearly fill the limit: fail the task, loudly, and retry.
        if (!result.written)
          throw new Error(`${roleId}: no room for a deny policy (${result.size} > ${result.limit})`);
      }
      if (added.length > 0) {
        await audit('ledger.entries_added', {
          entries: added,
          policySize: result.size,
          issuedBefore: issuedBefore?.at,
        });
      }
      if (removed.length > 0)
        await audit('ledger.entries_removed', { entries: removed, policySize: result.size });
    }

    if (entries.size === 0 && !issuedBefore && incoming.length === 0) break;
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof revocationLedgerWorkflow>({
        roleArn,
        entries: [...entries.values()],
        ...(issuedBefore ? { issuedBefore } : {}),
      });
    }
    const nextExpiry = [...entries.values()].reduce(
      (soonest, e) => Math.min(soonest, Date.parse(e.expiresAt)),
      issuedBefore ? Date.parse(issuedBefore.until) : Number.POSITIVE_INFINITY,
    );
    await condition(() => incoming.length > 0, Math.max(nextExpiry - Date.now(), 1));
  }
  await condition(allHandlersFinished);
}
