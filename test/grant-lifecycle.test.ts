// The grant state machine on the real dev server, moto and the shipped policies.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ListRolesCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { GrantView } from '../common/grant.js';
import { ledgerStateQuery, ledgerWorkflowId } from '../common/grant-messages.js';
import { openAuditStore } from '../store/index.js';
import { eventually, rejectsWith } from './support/assertions.js';
import { principal, startTestBroker, type TestBroker } from './support/broker.js';
import { iamWith, stsWith } from './support/stack.js';

let broker: TestBroker;

before(async () => {
  broker = await startTestBroker({
    overrides: { 'prod-admin': { approvalTimeout: '3s' } },
    store: 'postgres',
  });
  await broker.startWorker();
});
after(() => broker.close());

const statusOf = async (
  grant: Parameters<TestBroker['view']>[0],
  status: GrantView['status'],
  timeoutMs?: number,
) =>
  eventually(
    `status ${status}`,
    async () => {
      const view = await broker.view(grant);
      return view.status === status ? view : undefined;
    },
    timeoutMs,
  );

async function auditTypes(grantId: string): Promise<string[]> {
  const store = await openAuditStore(broker.auditDatabaseUrl);
  try {
    let text = '';
    for await (const chunk of store.exportEvents({ grantId }, 'jsonl')) text += chunk;
    return text
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as { type: string }).type);
  } finally {
    await store.close();
  }
}

describe('auto-approved and break-glass grants', () => {
  test('prod-readonly for 30m is active at once; its credentials work and name the grant', async () => {
    const grant = await broker.request('alice', 'prod-readonly', {
      durationSeconds: 1800,
      reason: 'look at logs',
    });
    const view = await statusOf(grant, 'active');
    assert.equal(view.requiredApprovals, 0);
    assert.ok(view.expiresAt && view.activatedAt);
    assert.equal(Date.parse(view.expiresAt) - Date.parse(view.activatedAt), 1800 * 1000);

    const creds = await broker.credentials(grant, 'alice');
    assert.equal(creds.Version, 1);
    assert.ok(
      Date.parse(creds.Expiration) <= Date.parse(view.expiresAt),
      'credentials never outlive the grant',
    );
    const sts = stsWith({
      accessKeyId: creds.AccessKeyId,
      secretAccessKey: creds.SecretAccessKey,
      sessionToken: creds.SessionToken,
    });
    const who = await sts.send(new GetCallerIdentityCommand({}));
    sts.destroy();
    const sessionName = `jit-${grant.workflowId.replace(/^grant-/, '')}-1`;
    assert.equal(who.Arn?.endsWith(`/${sessionName}`), true, who.Arn);
    const after = await broker.view(grant);
    assert.deepEqual(
      after.sessions.map((s) => s.sessionName),
      [sessionName],
    );
    assert.equal(after.sessions[0]?.accessKeyId, creds.AccessKeyId);
  });

  test('break-glass for on-call is immediate and flagged', async () => {
    const grant = await broker.request('erin', 'breakglass-admin', {
      durationSeconds: 1800,
      reason: 'INC-1 outage',
    });
    const view = await statusOf(grant, 'active');
    assert.equal(view.breakGlass, true);
    assert.ok(view.timeline.some((t) => t.type === 'activated' && t.detail?.includes('post-hoc')));
  });

  test('a request the policy refuses is refused at the door and starts nothing', async () => {
    await assert.rejects(
      () => broker.request('alice', 'breakglass-admin', { durationSeconds: 600 }),
      (err: { code?: string; message: string }) =>
        err.code === 'policy_denied' && /requester group of breakglass-admin/.test(err.message),
    );
    const page = await broker.store.grants.list(
      { visibleTo: 'all', roleId: 'breakglass-admin', requester: principal('alice').sub },
      10,
    );
    assert.deepEqual(page.items, []);
  });
});

describe('approvals', () => {
  test('prod-admin needs two distinct eligible reviewers; every wrong approval is refused without history', async () => {
    const grant = await broker.request('alice', 'prod-admin', {
      durationSeconds: 3600,
      reason: 'fix db',
      ticket: 'INC-42',
    });
    const pending = await eventually('policy decision', async () => {
      const view = await broker.view(grant);
      return view.requiredApprovals > 0 ? view : undefined;
    });
    assert.equal(pending.status, 'pending');
    assert.equal(pending.requiredApprovals, 2);

    await rejectsWith(grant, 'self_approval', () => broker.approve(grant, 'alice'));
    await rejectsWith(grant, 'not_eligible', () => broker.approve(grant, 'dave'));
    await rejectsWith(grant, 'grant_not_active', () => broker.credentials(grant, 'alice'));

    const one = await broker.approve(grant, 'bob', 'looks fine');
    assert.equal(one.status, 'pending');
    assert.deepEqual(
      one.approvals.map((a) => a.by),
      ['bob'],
    );
    await rejectsWith(grant, 'already_approved', () => broker.approve(grant, 'bob'));

    const two = await broker.approve(grant, 'carol');
    assert.equal(two.status, 'active', 'the approval that completes the count returns the grant active');
    assert.deepEqual(
      two.approvals.map((a) => a.by),
      ['bob', 'carol'],
    );
    await rejectsWith(grant, 'already_decided', () => broker.approve(grant, 'carol'));
    await rejectsWith(grant, 'not_requester', () => broker.credentials(grant, 'bob'));
  });

  test('a reviewer denies with a reason; later approvals are refused', async () => {
    const grant = await broker.request('alice', 'prod-admin', { durationSeconds: 3600, ticket: 'INC-43' });
    await eventually('policy decision', async () =>
      (await broker.view(grant)).requiredApprovals ? true : undefined,
    );
    await rejectsWith(grant, 'self_approval', () => broker.deny(grant, 'alice', 'no'));
    await rejectsWith(grant, 'invalid_argument', () => broker.deny(grant, 'bob', '   '));
    const view = await broker.deny(grant, 'bob', 'not during the freeze');
    assert.equal(view.status, 'denied');
    assert.match(view.endReason ?? '', /not during the freeze/);
    await rejectsWith(grant, 'already_decided', () => broker.approve(grant, 'carol'));
    assert.deepEqual(await auditTypes(grant.workflowId), ['grant.requested', 'grant.denied']);
  });

  test('the requester cancels a pending request; nobody else can', async () => {
    const grant = await broker.request('alice', 'prod-admin', { durationSeconds: 3600, ticket: 'INC-44' });
    await rejectsWith(grant, 'not_requester', () => broker.cancel(grant, 'bob'));
    const view = await broker.cancel(grant, 'alice');
    assert.equal(view.status, 'cancelled');
    await rejectsWith(grant, 'grant_not_pending', () => broker.cancel(grant, 'alice'));
  });

  test('a request nobody decides times out after the role approval timeout', async () => {
    const grant = await broker.request('alice', 'prod-admin', { durationSeconds: 3600, ticket: 'INC-45' });
    const view = await statusOf(grant, 'timed_out', 15_000);
    assert.equal(view.endedBy, 'system');
    await rejectsWith(grant, 'already_decided', () => broker.approve(grant, 'bob'));
  });
});

describe('the end of a grant', () => {
  test('a grant expires when its time is up, measured from activation', async () => {
    const grant = await broker.request('alice', 'prod-readonly', { durationSeconds: 2 });
    const active = await statusOf(grant, 'active');
    const ended = await statusOf(grant, 'expired', 10_000);
    assert.ok(ended.endedAt && active.expiresAt);
    const lagMs = Date.parse(ended.endedAt) - Date.parse(active.expiresAt);
    assert.ok(lagMs >= 0 && lagMs < 2000, `ended ${lagMs} ms after its expiry`);
    await rejectsWith(grant, 'grant_not_active', () => broker.credentials(grant, 'alice'));
    assert.deepEqual(await auditTypes(grant.workflowId), [
      'grant.requested',
      'grant.activated',
      'grant.expired',
    ]);
  });

  test('revocation ends access: the ledger denies the session and AWS refuses it', async () => {
    const grant = await broker.request('alice', 'prod-readonly', { durationSeconds: 1800 });
    await statusOf(grant, 'active');
    const creds = await broker.credentials(grant, 'alice');
    const session = {
      accessKeyId: creds.AccessKeyId,
      secretAccessKey: creds.SecretAccessKey,
      sessionToken: creds.SessionToken,
    };
    const iam = iamWith(session);
    try {
      await iam.send(new ListRolesCommand({})); // allowed by the role while the grant is active

      await rejectsWith(grant, 'not_eligible', () => broker.revoke(grant, 'dave', 'curious'));
      const revoked = await broker.revoke(grant, 'bob', 'incident over');
      assert.equal(revoked.status, 'revoked');
      assert.equal(revoked.endedBy, 'bob');

      const roleArn = broker.roleArns['prod-readonly'] as string;
      const ledger = broker.client.workflow.getHandle(ledgerWorkflowId(roleArn));
      const state = await eventually('ledger entry', async () => {
        const s = await ledger.query(ledgerStateQuery);
        return s.entries.length > 0 ? s : undefined;
      });
      assert.equal(state.entries[0]?.grantId, grant.workflowId);
      assert.match(state.entries[0]?.assumedRoleId ?? '', new RegExp(`:jit-${grant.workflowId.slice(6)}-1$`));

      await eventually('AWS refusing the revoked session', async () =>
        iam.send(new ListRolesCommand({})).then(
          () => undefined,
          (err: Error) => (err.name === 'AccessDenied' ? true : undefined),
        ),
      );
    } finally {
      iam.destroy();
    }
    await rejectsWith(grant, 'grant_not_active', () => broker.revoke(grant, 'bob', 'again'));
    const types = await auditTypes(grant.workflowId);
    assert.deepEqual(types, [
      'grant.requested',
      'grant.activated',
      'grant.credentials_issued',
      'grant.revoked',
    ]);
  });

  test('AWS refusing to assume the role fails that credentials call, not the grant', async () => {
    const failing = await startTestBroker({
      overrides: {
        'prod-readonly': { arn: 'arn:aws:iam::123456789012:role/not-a-jit-role', account: '123456789012' },
      },
    });
    await failing.startWorker();
    try {
      const grant = await failing.request('alice', 'prod-readonly', { durationSeconds: 1800 });
      await eventually('active', async () =>
        (await failing.view(grant)).status === 'active' ? true : undefined,
      );
      await assert.rejects(
        () => failing.credentials(grant, 'alice'),
        (err: Error & { code?: string }) =>
          err.code === 'aws_refused' && /not authorized to perform: sts:AssumeRole/.test(err.message),
      );
      const view = await failing.view(grant);
      assert.equal(view.status, 'active', 'the grant keeps running; a later call may succeed');
      assert.deepEqual(view.sessions, []);
    } finally {
      await failing.close();
    }
  });
});

describe('extensions', () => {
  test('an auto-approvable extension moves the expiry; past the role cap it is refused', async () => {
    const grant = await broker.request('alice', 'prod-readonly', { durationSeconds: 600 });
    const active = await statusOf(grant, 'active');
    await rejectsWith(grant, 'not_requester', () => broker.extend(grant, 'bob', 600, 'more'));
    await rejectsWith(grant, 'extension_exceeds_cap', () => broker.extend(grant, 'alice', 3600, 'more'));
    await rejectsWith(grant, 'invalid_argument', () => broker.extend(grant, 'alice', 0, 'more'));
    await rejectsWith(grant, 'invalid_argument', () => broker.extend(grant, 'alice', 60, ' '));
    const extended = await broker.extend(grant, 'alice', 600, 'still debugging');
    assert.equal(extended.duration, 1200);
    assert.equal(Date.parse(extended.expiresAt ?? '') - Date.parse(active.expiresAt ?? ''), 600_000);
  });

  test('a prod-admin extension waits for two approvals again', async () => {
    const grant = await broker.request('alice', 'prod-admin', { durationSeconds: 3600, ticket: 'INC-46' });
    await eventually('policy decision', async () =>
      (await broker.view(grant)).requiredApprovals ? true : undefined,
    );
    await broker.approve(grant, 'bob');
    const active = await broker.approve(grant, 'carol');
    const pending = await broker.extend(grant, 'alice', 1800, 'migration overran');
    assert.equal(pending.pendingExtension?.requiredApprovals, 2);
    assert.equal(pending.expiresAt, active.expiresAt);
    await rejectsWith(grant, 'extension_pending', () => broker.extend(grant, 'alice', 600, 'more'));
    await rejectsWith(grant, 'self_approval', () => broker.approve(grant, 'alice'));
    await broker.approve(grant, 'bob');
    const done = await broker.approve(grant, 'carol');
    assert.equal(done.pendingExtension, undefined);
    assert.equal(done.duration, 5400);
  });
});
