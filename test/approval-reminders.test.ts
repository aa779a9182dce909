// A request that waits for approval is followed up: reminders to the reviewers who have not acted,
// one escalation that lets the role's escalation group approve too, the requester's rate-limited
// nudge, and a DM saying how to ask again when it times out. All of it stops at the decision.
// On-call engineers get prod-admin for 1h with one approval. Real stack; short catalog durations.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { devUsers } from '../infra/oidc/dev-users.js';
import { startTestApi, type TestApi } from './support/api.js';
import { eventually } from './support/assertions.js';
import { type DevUserName, startTestBroker, type TestBroker } from './support/broker.js';
import { type FakeSlack, startFakeSlack } from './support/fake-slack.js';

const members = {
  alice: { id: 'UALICE', email: 'alice@example.test' },
  bob: { id: 'UBOB', email: 'bob@example.test' },
  carol: { id: 'UCAROL', email: 'carol@example.test' },
  dave: { id: 'UDAVE', email: 'dave@example.test' },
  erin: { id: 'UERIN', email: 'erin@example.test' },
};

let slack: FakeSlack;
let broker: TestBroker;
let api: TestApi;
let scratch: string;

before(async () => {
  slack = await startFakeSlack({ members: Object.values(members) });
  scratch = mkdtempSync(join(tmpdir(), 'jit-reminders-'));
  const directoryFile = join(scratch, 'directory.yaml');
  writeFileSync(
    directoryFile,
    stringify({ users: devUsers.map((u) => ({ sub: u.sub, email: u.email, groups: [...u.groups] })) }),
  );
  const settings = { botToken: slack.botToken, apiUrl: slack.apiUrl };
  broker = await startTestBroker({
    overrides: {
      'prod-admin': {
        approvalTimeout: '20s',
        remindAfter: '2s',
        maxReminders: 10,
        escalateAfter: '6s',
        escalationChannel: '#prod-escalations',
        // dave (an auditor) may approve once a request escalates: Cedar's approve-by-escalation-group.
        escalationGroup: 'auditors',
        nudgeInterval: '1h',
      },
    },
    slack: settings,
    directoryFile,
  });
  await broker.startWorker();
  api = await startTestApi(broker, undefined, {
    slack: { ...settings, signingSecret: 'test-signing-secret', directoryFile },
  });
});
after(async () => {
  await api?.close();
  await broker?.close();
  await slack?.close();
  rmSync(scratch, { recursive: true, force: true });
});

const dmsTo = (user: { id: string }, grantId: string) =>
  slack
    .delivered('chat.postMessage')
    .filter((p) => p.channel === user.id && String(p.text).includes(grantId))
    .map((p) => String(p.text));

const threadReplies = () => slack.delivered('chat.postMessage').filter((p) => p.thread_ts !== undefined);

async function requestAdmin(user: DevUserName, ticket: string, duration = '1h'): Promise<any> {
  const res = await api.call('POST', '/v1/requests', {
    user,
    body: { role: 'prod-admin', duration, reason: `${ticket} fix the queue`, ticket },
  });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return res.body;
}

const grantWhen = (id: string, what: string, ready: (view: any) => boolean, timeoutMs = 20_000) =>
  eventually(
    what,
    async () => {
      const res = await api.call('GET', `/v1/requests/${id}`, { user: 'alice' });
      return res.status === 200 && ready(res.body) ? res.body : undefined;
    },
    timeoutMs,
  );

async function auditTypes(id: string): Promise<string[]> {
  const res = await api.call('GET', `/v1/audit/events?grant=${id}&format=jsonl`, { user: 'dave' });
  return String(res.body)
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line).type as string);
}

const acceptedUpdates = async (id: string) =>
  ((await broker.client.workflow.getHandle(id).fetchHistory()).events ?? []).filter(
    (e) => e.workflowExecutionUpdateAcceptedEventAttributes,
  ).length;

test('a pending request gets reminders and an escalation that widens its reviewers, and both stop when it is approved', async (t) => {
  const { id } = await requestAdmin('alice', 'INC-1');

  // Reminders: a reply under the approval message, DMs to the reviewers, never to the requester.
  await grantWhen(id, 'the first reminder', (v) => v.followUp?.reminders >= 1);
  await eventually('the approval message', async () =>
    slack
      .delivered('chat.postMessage')
      .find((p) => p.channel === '#prod-access' && JSON.stringify(p.blocks ?? []).includes(id)),
  );
  await eventually('a reminder under the approval message', async () =>
    threadReplies().find((r) => String(r.text).includes('Reminder 1 of 10')),
  );
  await eventually('reminder DMs to bob and carol', async () =>
    dmsTo(members.bob, id).some((t) => t.includes('Reminder 1 of 10')) &&
    dmsTo(members.carol, id).some((t) => t.includes('Reminder 1 of 10'))
      ? true
      : undefined,
  );
  assert.deepEqual(
    dmsTo(members.alice, id).filter((t) => t.includes('Reminder')),
    [],
    'not the requester',
  );

  // Before the escalation dave (escalation group) is no reviewer.
  const early = await api.call('GET', `/v1/requests/${id}`, { user: 'alice' });
  if (early.body.followUp?.escalatedAt === undefined) {
    const refused = await api.call('POST', `/v1/requests/${id}/approve`, { user: 'dave', body: {} });
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'not_eligible');
  } else {
    t.diagnostic(
      'the request escalated before dave could be refused (a slow machine): that check was skipped',
    );
  }
  assert.equal((await api.call('POST', `/v1/requests/${id}/approve`, { user: 'bob', body: {} })).status, 200);

  // The escalation: its channel gets a copy with the buttons; the widened set is DMed, bob (who acted) not.
  const escalated = await grantWhen(id, 'the escalation', (v) => v.followUp?.escalatedAt !== undefined);
  assert.equal(escalated.followUp.escalationGroup, 'auditors');
  const copy = await eventually('the escalation channel copy', async () =>
    slack
      .delivered('chat.postMessage')
      .find((p) => p.channel === '#prod-escalations' && JSON.stringify(p.blocks ?? []).includes(id)),
  );
  assert.ok(JSON.stringify(copy.blocks).includes('grant_approve'), 'reviewers can decide from there');
  assert.ok(JSON.stringify(copy.blocks).includes('escalated'));
  await eventually('escalation DMs to carol and dave', async () =>
    dmsTo(members.carol, id).some((t) => t.includes('Escalated')) &&
    dmsTo(members.dave, id).some((t) => t.includes('Escalated'))
      ? true
      : undefined,
  );
  const bobsDms = dmsTo(members.bob, id);
  assert.ok(!bobsDms.some((t) => t.includes('Escalated')), 'bob already approved');

  // Now dave may approve: the second approval activates the grant.
  const approved = await api.call('POST', `/v1/requests/${id}/approve`, { user: 'dave', body: {} });
  assert.equal(approved.status, 200, JSON.stringify(approved.body));
  assert.equal(approved.body.status, 'active');

  // Nothing more once decided: wait past two more reminder times, then compare.
  const remindersAtDecision = (await grantWhen(id, 'active', (v) => v.status === 'active')).followUp
    .reminders;
  const repliesAtDecision = threadReplies().filter((r) => String(r.text).includes('Reminder')).length;
  await new Promise((r) => setTimeout(r, 5000));
  const types = await auditTypes(id);
  const activatedAt = types.indexOf('grant.activated');
  assert.ok(activatedAt > 0);
  assert.deepEqual(
    types.slice(activatedAt).filter((t) => t === 'grant.reminder_sent' || t === 'grant.escalated'),
    [],
    'no reminder or escalation after the decision',
  );
  assert.equal(
    (await api.call('GET', `/v1/requests/${id}`, { user: 'alice' })).body.followUp.reminders,
    remindersAtDecision,
  );
  assert.equal(threadReplies().filter((r) => String(r.text).includes('Reminder')).length, repliesAtDecision);
  await eventually('both messages, the copy too, edited to active without buttons', async () => {
    const edited = slack.delivered('chat.update').filter((u) => {
      const blocks = JSON.stringify(u.blocks);
      return blocks.includes(id) && blocks.includes('active until') && !blocks.includes('grant_approve');
    });
    return new Set(edited.map((u) => u.channel)).size === 2 ? true : undefined;
  });
  await api.call('POST', `/v1/requests/${id}/revoke`, { user: 'bob', body: { reason: 'test over' } });
});

test('the requester may nudge the reviewers once per nudgeInterval; nobody else may', async () => {
  const { id } = await requestAdmin('alice', 'INC-2');
  const refused = await api.call('POST', `/v1/requests/${id}/nudge`, { user: 'bob', body: {} });
  assert.equal(refused.status, 403);
  assert.equal(refused.body.error.code, 'not_requester');

  const nudged = await api.call('POST', `/v1/requests/${id}/nudge`, { user: 'alice', body: {} });
  assert.equal(nudged.status, 200, JSON.stringify(nudged.body));
  assert.equal(nudged.body.followUp.nudges, 1);
  await eventually('nudge DMs to the reviewers', async () =>
    dmsTo(members.bob, id).some((t) => t.includes('asks the reviewers to look')) &&
    dmsTo(members.carol, id).some((t) => t.includes('asks the reviewers to look'))
      ? true
      : undefined,
  );

  const before = await acceptedUpdates(id);
  const again = await api.call('POST', `/v1/requests/${id}/nudge`, { user: 'alice', body: {} });
  assert.equal(again.status, 429, JSON.stringify(again.body));
  assert.equal(again.body.error.code, 'rate_limited');
  assert.match(again.body.error.message, /once per 1h/);
  assert.ok(again.headers.get('retry-after'));
  assert.equal(await acceptedUpdates(id), before, 'a refused nudge writes no history');
  assert.equal((await auditTypes(id)).filter((t) => t === 'grant.nudged').length, 1);

  await api.call('POST', `/v1/requests/${id}/cancel`, { user: 'alice', body: {} });
  const late = await api.call('POST', `/v1/requests/${id}/nudge`, { user: 'alice', body: {} });
  assert.equal(late.status, 409);
  assert.equal(late.body.error.code, 'grant_not_pending');
});

test('a request that times out tells the requester how to ask again', async () => {
  const { id } = await requestAdmin('alice', 'INC-3', '45m');
  await grantWhen(id, 'timed out', (v) => v.status === 'timed_out', 40_000);
  const dm = await eventually('the timed-out DM', async () =>
    slack
      .delivered('chat.postMessage')
      .map((p) => ({ channel: p.channel, text: String(p.text) }))
      .find(
        (p) =>
          p.channel === members.alice.id && p.text.includes('timed out') && p.text.includes('prod-admin'),
      ),
  );
  assert.match(dm.text, /jit request prod-admin --for 45m --ticket INC-3 --reason/);
});

test('on-call engineers get prod-admin for 1h with one approval instead of two', async () => {
  // erin is on call (the shipped catalog's rotation); alice is not.
  const oneHour = await requestAdmin('erin', 'INC-4', '1h');
  assert.equal(oneHour.requiredApprovals, 1);
  assert.ok(oneHour.policyIds.includes('on-call-prod-admin-one-approval'));
  const approved = await api.call('POST', `/v1/requests/${oneHour.id}/approve`, { user: 'bob', body: {} });
  assert.equal(approved.body.status, 'active', 'one approval is enough');

  const twoHours = await requestAdmin('erin', 'INC-5', '2h');
  assert.equal(twoHours.requiredApprovals, 2, 'longer than 1h: two approvals');
  const notOnCall = await requestAdmin('alice', 'INC-6', '1h');
  assert.equal(notOnCall.requiredApprovals, 2, 'not on call: two approvals');
  for (const [user, id] of [
    ['bob', oneHour.id],
    ['erin', twoHours.id],
    ['alice', notOnCall.id],
  ] as const) {
    const path = `/v1/requests/${id}/${user === 'bob' ? 'revoke' : 'cancel'}`;
    await api.call('POST', path, { user, body: user === 'bob' ? { reason: 'test over' } : {} });
  }
});
