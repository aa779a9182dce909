// The per-role revocation ledger: serialised edits, IAM's size limit, expiry of entries.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GetRolePolicyCommand, type IAMClient, NoSuchEntityException } from '@aws-sdk/client-iam';
import type { LedgerEntry } from '../common/grant.js';
import {
  coverSessionsSignal,
  ledgerStateQuery,
  ledgerWorkflowId,
  revocationLedgerWorkflowType,
} from '../common/grant-messages.js';
import {
  policySize,
  REVOCATION_POLICY_NAME,
  ROLE_INLINE_POLICY_LIMIT,
  revocationPolicyDocument,
  roleNameFromArn,
} from '../common/revocation-policy.js';
import { eventually } from './support/assertions.js';
import { startTestBroker, type TestBroker } from './support/broker.js';
import { adminIam } from './support/stack.js';

let broker: TestBroker;
let iam: IAMClient;

before(async () => {
  broker = await startTestBroker();
  await broker.startWorker();
  iam = adminIam();
});
after(async () => {
  iam.destroy();
  await broker.close();
});

interface DenyPolicy {
  Statement: { Sid: string; Condition: Record<string, Record<string, string | string[]>> }[];
}

async function denyPolicy(roleArn: string): Promise<{ document: DenyPolicy; text: string } | undefined> {
  try {
    const out = await iam.send(
      new GetRolePolicyCommand({ RoleName: roleNameFromArn(roleArn), PolicyName: REVOCATION_POLICY_NAME }),
    );
    const text = decodeURIComponent(out.PolicyDocument ?? '');
    return { document: JSON.parse(text) as DenyPolicy, text };
  } catch (err) {
    if (err instanceof NoSuchEntityException) return undefined;
    throw err;
  }
}

const deniedUserIds = (policy: DenyPolicy | undefined) =>
  (policy?.Statement.find((s) => s.Sid === 'JitRevokedSessions')?.Condition.StringEquals?.['aws:userid'] ??
    []) as string[];

function cover(roleArn: string, entries: LedgerEntry[]) {
  return broker.client.workflow.signalWithStart(revocationLedgerWorkflowType, {
    workflowId: ledgerWorkflowId(roleArn),
    taskQueue: broker.taskQueue,
    args: [{ roleArn }],
    signal: coverSessionsSignal,
    signalArgs: [entries],
  });
}

const fakeEntry = (i: number, expiresInMs: number): LedgerEntry => ({
  grantId: `grant-fake-${i}`,
  assumedRoleId: `AROAFAKEFAKEFAKEFAKE:jit-01FAKEFAKEFAKEFAKEFAKEFAKE${String(i).padStart(4, '0')}-1`,
  expiresAt: new Date(Date.now() + expiresInMs).toISOString(),
});

describe('the deny policy document', () => {
  test('denies exactly the listed sessions by aws:userid, and everything issued before a cutoff', () => {
    const doc = JSON.parse(
      revocationPolicyDocument([fakeEntry(2, 1000), fakeEntry(1, 1000)], '2026-01-01T00:00:00.000Z') ?? '',
    );
    assert.deepEqual(doc.Statement[0].Condition, {
      StringEquals: { 'aws:userid': [fakeEntry(1, 0).assumedRoleId, fakeEntry(2, 0).assumedRoleId] },
    });
    assert.equal(doc.Statement[0].Effect, 'Deny');
    assert.deepEqual(doc.Statement[1].Condition, {
      DateLessThan: { 'aws:TokenIssueTime': '2026-01-01T00:00:00.000Z' },
    });
    assert.equal(revocationPolicyDocument([]), null);
  });
});

describe('the ledger on moto', () => {
  test('50 grants on one role revoked at once: all 50 sessions denied, no lost update, within the size limit', async () => {
    // breakglass-admin needs no approval, which keeps the set-up short.
    const breakglassArn = broker.roleArns['breakglass-admin'] as string;
    const grants = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        broker.request('erin', 'breakglass-admin', { durationSeconds: 1800, reason: `drill ${i}` }),
      ),
    );
    await Promise.all(
      grants.map((g) =>
        eventually('active', async () => ((await broker.view(g)).status === 'active' ? true : undefined)),
      ),
    );
    const sessions = await Promise.all(grants.map((g) => broker.credentials(g, 'erin')));
    await Promise.all(grants.map((g) => broker.revoke(g, 'bob', 'drill')));

    // Revocation hands the sessions to the ledger; the ledger writes them in coalesced batches.
    const ledger = broker.client.workflow.getHandle(ledgerWorkflowId(breakglassArn));
    const state = await eventually('50 ledger entries', async () => {
      const s = await ledger.query(ledgerStateQuery);
      return s.entries.length === 50 ? s : undefined;
    });
    assert.equal(state.issuedBefore, undefined);
    const policy = await eventually('the deny policy with 50 entries', async () => {
      const p = await denyPolicy(breakglassArn);
      return deniedUserIds(p?.document).length === 50 ? p : undefined;
    });
    const views = await Promise.all(grants.map((g) => broker.view(g)));
    const expected = views.flatMap((v) => v.sessions.map((s) => s.sessionName)).sort();
    assert.deepEqual(
      deniedUserIds(policy.document)
        .map((id) => id.split(':')[1])
        .sort(),
      expected,
    );
    assert.equal(new Set(sessions.map((s) => s.AccessKeyId)).size, 50);
    assert.ok(policySize(policy.text) <= ROLE_INLINE_POLICY_LIMIT);
  });

  test('entries vanish once the credentials they cover have expired, and the policy with them', async () => {
    const roleArn = broker.roleArns['prod-readonly'] as string;
    await cover(roleArn, [fakeEntry(1, 1500), fakeEntry(2, 2500)]);
    const written = await eventually('two entries', async () => {
      const p = await denyPolicy(roleArn);
      return deniedUserIds(p?.document).length === 2 ? p : undefined;
    });
    assert.ok(written);
    await eventually(
      'one entry left',
      async () => (deniedUserIds((await denyPolicy(roleArn))?.document).length === 1 ? true : undefined),
      5000,
    );
    await eventually(
      'the deny policy removed',
      async () => ((await denyPolicy(roleArn)) === undefined ? true : undefined),
      5000,
    );
    await eventually('the ledger workflow done', async () => {
      const { status } = await broker.client.workflow.getHandle(ledgerWorkflowId(roleArn)).describe();
      return status.name === 'COMPLETED' ? true : undefined;
    });
  });

  test('past IAM size limit the ledger denies every session issued before now instead of dropping any', async () => {
    const roleArn = broker.roleArns['prod-admin'] as string;
    await cover(
      roleArn,
      Array.from({ length: 250 }, (_, i) => fakeEntry(i, 3_600_000)),
    );
    const policy = await eventually('the cutoff policy', async () => {
      const p = await denyPolicy(roleArn);
      return p?.document.Statement.some((s) => s.Sid === 'JitRevokedBefore') ? p : undefined;
    });
    assert.ok(policySize(policy.text) <= ROLE_INLINE_POLICY_LIMIT);
    const state = await broker.client.workflow.getHandle(ledgerWorkflowId(roleArn)).query(ledgerStateQuery);
    assert.equal(state.entries.length, 0);
    assert.ok(state.issuedBefore);
    assert.ok(
      Date.parse(state.issuedBefore.until) >= Date.now() + 3_500_000,
      'the cutoff lasts until the last session expires',
    );

    // A later session is listed on its own again.
    await cover(roleArn, [fakeEntry(999, 3_600_000)]);
    await eventually('the new entry', async () =>
      deniedUserIds((await denyPolicy(roleArn))?.document).length === 1 ? true : undefined,
    );
  });
});
