// Reviewers approve in Slack: the approval message, signed clicks through the real API and
// workflow, the message edited in place, the requester's DMs; forged, stale, replayed and
// ineligible clicks change nothing; a Slack outage never holds a grant back.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { devUsers } from '../infra/oidc/dev-users.js';
import { startTestApi, type TestApi } from './support/api.js';
import { eventually } from './support/assertions.js';
import { startTestBroker, type TestBroker } from './support/broker.js';
import {
  buttonClick,
  denySubmission,
  type FakeSlack,
  signedInteraction,
  slackSignature,
  startFakeSlack,
} from './support/fake-slack.js';

const signingSecret = 'test-signing-secret-not-a-real-one';
const members = {
  alice: { id: 'UALICE', email: 'alice@example.test' },
  bob: { id: 'UBOB', email: 'bob@example.test' },
  carol: { id: 'UCAROL', email: 'carol@example.test' },
  dave: { id: 'UDAVE', email: 'dave@example.test' }, // auditor, not a reviewer
  mallory: { id: 'UMALLORY', email: 'mallory@example.test' }, // not in the directory
  // Claims bob's address without having verified it.
  unverified: { id: 'UUNVERIFIED', email: 'bob@example.test', emailConfirmed: false },
};

let slack: FakeSlack;
let broker: TestBroker;
let api: TestApi;
let scratch: string;

before(async () => {
  slack = await startFakeSlack({ members: Object.values(members) });
  scratch = mkdtempSync(join(tmpdir(), 'jit-slack-'));
  const directoryFile = join(scratch, 'directory.yaml');
  // Alice's directory entry has another sub than her token and is a reviewer too: self-approval
  // must still be refused, by email.
  const users = devUsers.map((u) =>
    u.username === 'alice'
      ? { sub: 'alice-in-directory', email: u.email, groups: [...u.groups, 'reviewers'] }
      : { sub: u.sub, email: u.email, groups: [...u.groups] },
  );
  writeFileSync(directoryFile, stringify({ users }));
  const settings = { botToken: slack.botToken, apiUrl: slack.apiUrl };
  broker = await startTestBroker({ slack: settings });
  await broker.startWorker();
  api = await startTestApi(broker, undefined, { slack: { ...settings, signingSecret, directoryFile } });
});
after(async () => {
  await api?.close();
  await broker?.close();
  await slack?.close();
  rmSync(scratch, { recursive: true, force: true });
});

const json = async (res: Response): Promise<any> => res.json();
const postToSlackEndpoint = (signed: { body: string; headers: Record<string, string> }) =>
  fetch(`${api.url}/slack/events`, { method: 'POST', headers: signed.headers, body: signed.body });

async function requestProdAdmin(reason = 'INC-77 rotate the <!channel> keys'): Promise<string> {
  const res = await api.call('POST', '/v1/requests', {
    user: 'alice',
    body: { role: 'prod-admin', duration: 1800, reason, ticket: 'INC-77' },
  });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return res.body.id as string;
}

/** The channel message the broker posted for this grant. */
const approvalMessage = (grantId: string) =>
  eventually(`the approval message of ${grantId}`, async () => {
    const posts = slack.delivered('chat.postMessage');
    const i = posts.findIndex((p) => JSON.stringify(p.blocks ?? []).includes(grantId));
    return i < 0 ? undefined : { args: posts[i] as Record<string, any> };
  });

/** The newest edit of the message at `ts`, once it satisfies `ready`. */
const messageEdit = (ts: string | undefined, ready: (text: string) => boolean, what: string) =>
  eventually(
    what,
    async () => {
      const edits = slack.delivered('chat.update').filter((u) => u.ts === ts);
      const last = edits.at(-1);
      return last && ready(JSON.stringify(last.blocks)) ? last : undefined;
    },
    20_000,
  );

const dmsTo = (user: { id: string }) =>
  slack
    .delivered('chat.postMessage')
    .filter((p) => p.channel === user.id)
    .map((p) => String(p.text));

const ephemeralsTo = (user: { id: string }) =>
  slack
    .delivered('chat.postEphemeral')
    .filter((p) => p.user === user.id)
    .map((p) => String(p.text));

async function acceptedUpdates(grantId: string): Promise<number> {
  const history = await broker.client.workflow.getHandle(grantId).fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length;
}

const grantView = async (grantId: string) =>
  (await api.call('GET', `/v1/requests/${grantId}`, { user: 'alice' })).body;

function click(user: { id: string }, actionId: string, grantId: string, actionTs?: string) {
  return signedInteraction(
    signingSecret,
    buttonClick({
      user: user.id,
      actionId,
      grantId,
      channel: 'C00000001',
      messageTs: '1.0',
      ...(actionTs ? { actionTs } : {}),
    }),
  );
}

test('a request that needs approval posts its message; two Slack approvals activate it; the message and DMs follow', async () => {
  const id = await requestProdAdmin();
  const { args: posted } = await approvalMessage(id);
  assert.equal(posted.channel, '#prod-access', 'the role catalog names the channel');
  const blocks = JSON.stringify(posted.blocks);
  for (const shown of ['alice@example.test', 'prod-admin', '123456789012', '30m', 'INC-77', 'Break-glass']) {
    assert.ok(blocks.includes(shown), `the message shows ${shown}`);
  }
  assert.ok(blocks.includes('&lt;!channel&gt;'), 'user text is escaped: no @channel ping');
  assert.ok(!blocks.includes('<!channel>'));
  const buttons = (posted.blocks as any[]).find((b) => b.type === 'actions').elements;
  assert.deepEqual(
    buttons.map((b: any) => [b.action_id, b.value]),
    [
      ['grant_approve', id],
      ['grant_deny', id],
    ],
  );

  const first = await postToSlackEndpoint(click(members.bob, 'grant_approve', id));
  assert.equal(first.status, 200);
  await eventually('bob’s approval recorded', async () =>
    (await grantView(id)).approvals.length === 1 ? true : undefined,
  );
  const edit1 = await eventually('the message shows 1 of 2', async () =>
    slack
      .delivered('chat.update')
      .find((u) => JSON.stringify(u.blocks).includes(id) && JSON.stringify(u.blocks).includes('1 of 2')),
  );
  assert.ok(JSON.stringify(edit1.blocks).includes('grant_approve'), 'still undecided: buttons stay');

  assert.equal((await postToSlackEndpoint(click(members.carol, 'grant_approve', id))).status, 200);
  const view = await eventually('active after the second Slack approval', async () => {
    const v = await grantView(id);
    return v.status === 'active' ? v : undefined;
  });
  assert.deepEqual(
    view.approvals.map((a: { by: string }) => a.by),
    ['bob', 'carol'],
  );
  const activeEdit = await messageEdit(
    edit1.ts,
    (b) => b.includes('active until'),
    'the message shows active',
  );
  assert.ok(!JSON.stringify(activeEdit.blocks).includes('grant_approve'), 'decided: buttons are gone');
  await eventually('approved and active DMs', async () => {
    const dms = dmsTo(members.alice).filter((t) => t.includes('prod-admin'));
    return dms.some((t) => t.includes('approved by bob@example.test, carol@example.test')) &&
      dms.some((t) => t.includes('is active until') && t.includes(`jit creds ${id}`))
      ? true
      : undefined;
  });

  const revoked = await api.call('POST', `/v1/requests/${id}/revoke`, {
    user: 'bob',
    body: { reason: 'done' },
  });
  assert.equal(revoked.status, 200);
  await messageEdit(
    edit1.ts,
    (b) => b.includes('Revoked by bob@example.test: done'),
    'the message shows revoked',
  );
  await eventually('ended DM', async () =>
    dmsTo(members.alice).some((t) => t.includes('has ended') && t.includes('Revoked')) ? true : undefined,
  );
});

test('Deny opens a modal; its reason denies the grant, shows on the message and reaches the requester', async () => {
  const id = await requestProdAdmin('INC-78 look at logs');
  await approvalMessage(id);
  const opened = slack.delivered('views.open').length;
  assert.equal((await postToSlackEndpoint(click(members.bob, 'grant_deny', id))).status, 200);
  const modal = await eventually('the deny modal', async () => slack.delivered('views.open')[opened]);
  assert.equal(modal.view.callback_id, 'grant_deny_reason');
  assert.equal((await grantView(id)).status, 'pending', 'opening the modal decides nothing');

  // An empty reason keeps the modal open with an error.
  const empty = await postToSlackEndpoint(
    signedInteraction(
      signingSecret,
      denySubmission({
        user: members.bob.id,
        viewId: 'VEMPTY',
        privateMetadata: modal.view.private_metadata,
        reason: ' ',
      }),
    ),
  );
  assert.equal(empty.status, 200);
  assert.equal((await json(empty)).response_action, 'errors');

  const submit = await postToSlackEndpoint(
    signedInteraction(
      signingSecret,
      denySubmission({
        user: members.bob.id,
        viewId: 'VDENY1',
        privateMetadata: modal.view.private_metadata,
        reason: 'too broad, use prod-readonly',
      }),
    ),
  );
  assert.equal(submit.status, 200);
  const view = await eventually('denied', async () => {
    const v = await grantView(id);
    return v.status === 'denied' ? v : undefined;
  });
  assert.match(view.endReason, /too broad, use prod-readonly/);
  await eventually('the message shows the denial without buttons', async () =>
    slack
      .delivered('chat.update')
      .some(
        (u) =>
          JSON.stringify(u.blocks).includes(id) &&
          JSON.stringify(u.blocks).includes('Denied by bob@example.test: too broad') &&
          !JSON.stringify(u.blocks).includes('grant_approve'),
      )
      ? true
      : undefined,
  );
  await eventually('denied DM', async () =>
    dmsTo(members.alice).some((t) => t.includes('not granted') && t.includes('too broad')) ? true : undefined,
  );
});

test('forged, stale and replayed requests are refused with 401 and change nothing', async () => {
  const id = await requestProdAdmin('INC-79');
  await approvalMessage(id);
  const before = await acceptedUpdates(id);

  const forged = click(members.bob, 'grant_approve', id);
  forged.headers['x-slack-signature'] = slackSignature(
    'not-the-secret',
    Number(forged.headers['x-slack-request-timestamp']),
    forged.body,
  );
  const res1 = await postToSlackEndpoint(forged);
  assert.equal(res1.status, 401);
  assert.equal((await json(res1)).error.code, 'slack_signature_invalid');

  const tampered = click(members.bob, 'grant_approve', id);
  tampered.body = tampered.body.replace('UBOB', 'UCAROL');
  assert.equal((await postToSlackEndpoint(tampered)).status, 401, 'a changed body breaks the signature');

  const decorated = click(members.bob, 'grant_approve', id);
  decorated.headers['x-slack-signature'] += '=x';
  const res3 = await postToSlackEndpoint(decorated);
  assert.equal(res3.status, 401, 'a valid signature with extra text is not a new request');
  assert.equal((await json(res3)).error.code, 'slack_signature_invalid');

  const unsigned = click(members.bob, 'grant_approve', id);
  delete unsigned.headers['x-slack-signature'];
  assert.equal((await postToSlackEndpoint(unsigned)).status, 401);

  const staleTs = Math.floor(Date.now() / 1000) - 6 * 60;
  const stale = signedInteraction(
    signingSecret,
    buttonClick({
      user: members.bob.id,
      actionId: 'grant_approve',
      grantId: id,
      channel: 'C1',
      messageTs: '1.0',
    }),
    { timestamp: staleTs },
  );
  const res2 = await postToSlackEndpoint(stale);
  assert.equal(res2.status, 401);
  assert.equal((await json(res2)).error.code, 'slack_request_stale');

  assert.equal(await acceptedUpdates(id), before, 'nothing reached the workflow');
  assert.equal((await grantView(id)).approvals.length, 0);

  // A genuine click counts once, whether replayed byte for byte or resent by Slack with a new signature.
  const genuine = click(members.bob, 'grant_approve', id, '1700000123.000001');
  assert.equal((await postToSlackEndpoint(genuine)).status, 200);
  await eventually('bob approved', async () =>
    (await grantView(id)).approvals.length === 1 ? true : undefined,
  );
  const replay = await postToSlackEndpoint(genuine);
  assert.equal(replay.status, 401);
  assert.equal((await json(replay)).error.code, 'slack_request_replayed');
  // Slack's own retry: the same action, signed again a second later.
  const resent = signedInteraction(
    signingSecret,
    buttonClick({
      user: members.bob.id,
      actionId: 'grant_approve',
      grantId: id,
      channel: 'C00000001',
      messageTs: '1.0',
      actionTs: '1700000123.000001',
    }),
    { timestamp: Math.floor(Date.now() / 1000) + 1 },
  );
  assert.equal((await postToSlackEndpoint(resent)).status, 200);
  const ephemerals = slack.delivered('chat.postEphemeral').length;
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(
    slack.delivered('chat.postEphemeral').length,
    ephemerals,
    'a retry is not refused as a second approval',
  );
  const after = await grantView(id);
  assert.equal(after.approvals.length, 1, 'the same action counts once');
  assert.equal(after.status, 'pending');
});

test('self-approval, an unmapped or unverified Slack user and a non-reviewer get an ephemeral reason; nothing changes', async () => {
  const id = await requestProdAdmin('INC-80');
  await approvalMessage(id);
  const before = await acceptedUpdates(id);

  const cases: [keyof typeof members, string, RegExp][] = [
    ['alice', 'grant_approve', /your own request/],
    ['alice', 'grant_deny', /your own request/],
    ['mallory', 'grant_approve', /matches nobody in the broker's directory/],
    ['unverified', 'grant_approve', /not verified/],
    ['dave', 'grant_approve', /not an eligible reviewer/],
    ['dave', 'grant_deny', /not an eligible reviewer/],
  ];
  for (const [who, action, why] of cases) {
    const seen = ephemeralsTo(members[who]).length;
    assert.equal((await postToSlackEndpoint(click(members[who], action, id))).status, 200);
    const told = await eventually(
      `an ephemeral answer to ${who} (${action})`,
      async () => ephemeralsTo(members[who])[seen],
    );
    assert.match(told, why, `${who} ${action}`);
  }
  assert.equal(await acceptedUpdates(id), before, 'no decision reached the workflow history');
  const view = await grantView(id);
  assert.equal(view.status, 'pending');
  assert.equal(view.approvals.length, 0);
  assert.equal(
    slack.delivered('views.open').filter((v) => v.view.private_metadata.includes(id)).length,
    0,
    'no modal for refused deniers',
  );
});

test('with Slack failing or hanging, grants proceed through the API; messages are delivered once Slack is back', async () => {
  for (const mode of ['error', 'hang'] as const) {
    slack.setMode(mode);
    const id = await requestProdAdmin(`INC-81 outage ${mode}`);
    const started = Date.now();
    assert.equal(
      (await api.call('POST', `/v1/requests/${id}/approve`, { user: 'bob', body: {} })).status,
      200,
    );
    const approved = await api.call('POST', `/v1/requests/${id}/approve`, { user: 'carol', body: {} });
    assert.equal(approved.body.status, 'active', `${mode}: Slack down does not hold the grant back`);
    const creds = await api.call('POST', `/v1/requests/${id}/credentials`, { user: 'alice' });
    assert.equal(creds.status, 200);
    assert.ok(Date.now() - started < 15_000, `${mode}: decisions did not wait on Slack`);
    assert.ok(
      slack.calls.some((c) => !c.ok && JSON.stringify(c.args.blocks ?? []).includes(id)),
      `${mode}: the broker did try Slack`,
    );
    assert.equal(
      slack.delivered('chat.postMessage').filter((p) => JSON.stringify(p.blocks ?? []).includes(id)).length,
      0,
    );

    slack.setMode('up');
    const { args } = await approvalMessage(id);
    assert.ok(JSON.stringify(args.blocks).includes(id));
    await eventually(
      `${mode}: the message catches up to active`,
      async () =>
        slack
          .delivered('chat.update')
          .some(
            (u) => JSON.stringify(u.blocks).includes(id) && JSON.stringify(u.blocks).includes('active until'),
          )
          ? true
          : undefined,
      30_000,
    );
    await eventually(
      `${mode}: the active DM arrives`,
      async () => (dmsTo(members.alice).some((t) => t.includes(`jit creds ${id}`)) ? true : undefined),
      30_000,
    );
    assert.equal(
      slack.delivered('chat.postMessage').filter((p) => JSON.stringify(p.blocks ?? []).includes(id)).length,
      1,
      `${mode}: one channel message, not one per retry`,
    );
  }
});

test('an auto-approved grant posts no channel message; the requester is told when it is active and 10 minutes before it ends', async () => {
  // 10 min + 5 s: the reminder falls due 5 s after activation.
  const res = await api.call('POST', '/v1/requests', {
    user: 'alice',
    body: { role: 'prod-readonly', duration: 605, reason: 'read dashboards' },
  });
  assert.equal(res.status, 201, 'auto-approved: created active');
  const id = res.body.id as string;
  await eventually('active DM', async () =>
    dmsTo(members.alice).some((t) => t.includes(`jit creds ${id}`)) ? true : undefined,
  );
  const reminder = await eventually(
    'the reminder DM',
    async () => dmsTo(members.alice).find((t) => t.includes(`jit extend ${id}`)),
    20_000,
  );
  assert.match(reminder, /prod-readonly/);
  assert.equal(
    slack.delivered('chat.postMessage').filter((p) => JSON.stringify(p.blocks ?? []).includes(id)).length,
    0,
    'nothing for reviewers to decide, so nothing in their channel',
  );
  await api.call('POST', `/v1/requests/${id}/revoke`, { user: 'bob', body: { reason: 'test over' } });
});

test('a leftover Approve button cannot approve an extension the reviewer never saw', async () => {
  const id = await requestProdAdmin('INC-82');
  await approvalMessage(id);
  await api.call('POST', `/v1/requests/${id}/approve`, { user: 'bob', body: {} });
  const active = await api.call('POST', `/v1/requests/${id}/approve`, { user: 'carol', body: {} });
  assert.equal(active.body.status, 'active');
  const extended = await api.call('POST', `/v1/requests/${id}/extend`, {
    user: 'alice',
    body: { duration: '30m', reason: 'more time' },
  });
  assert.equal(extended.status, 200, JSON.stringify(extended.body));
  assert.ok(extended.body.pendingExtension, 'the extension waits for approval');

  const seen = ephemeralsTo(members.bob).length;
  assert.equal((await postToSlackEndpoint(click(members.bob, 'grant_approve', id))).status, 200);
  const told = await eventually('an ephemeral answer', async () => ephemeralsTo(members.bob)[seen]);
  assert.match(told, /no longer waiting for a decision/);
  const view = await grantView(id);
  assert.equal(view.pendingExtension.approvals.length, 0, 'the extension has no approval from Slack');
  await api.call('POST', `/v1/requests/${id}/revoke`, { user: 'bob', body: { reason: 'test over' } });
});
