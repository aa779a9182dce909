// Break-glass access is reviewed after the fact: the review opens when the grant activates, has a
// deadline, escalates on a schedule, and closes only when an eligible reviewer (never the person who
// used the access) acknowledges or flags it; a flag can revoke the grant. Real stack; short catalog
// durations stand in for the 24 h deadline; Slack is the fake.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import {
  breakglassReviewWorkflowType,
  type ReviewStart,
  reviewWorkflowId,
} from '../common/review-messages.js';
import { devUsers } from '../infra/oidc/dev-users.js';
import { startTestApi, type TestApi } from './support/api.js';
import { eventually } from './support/assertions.js';
import { principal, startTestBroker, type TestBroker } from './support/broker.js';
import { type CliUser, cliUser, loginWithCli } from './support/cli.js';
import { buttonClick, type FakeSlack, signedInteraction, startFakeSlack } from './support/fake-slack.js';

const signingSecret = 'test-signing-secret-not-a-real-one';
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
let carolCli: CliUser;

before(async () => {
  slack = await startFakeSlack({ members: Object.values(members) });
  scratch = mkdtempSync(join(tmpdir(), 'jit-review-'));
  const directoryFile = join(scratch, 'directory.yaml');
  writeFileSync(
    directoryFile,
    stringify({ users: devUsers.map((u) => ({ sub: u.sub, email: u.email, groups: [...u.groups] })) }),
  );
  const settings = { botToken: slack.botToken, apiUrl: slack.apiUrl };
  broker = await startTestBroker({
    overrides: {
      'breakglass-admin': {
        reviewDeadline: '2s',
        reviewEscalateEvery: '3s',
        escalationChannel: '#security-escalations',
      },
    },
    slack: settings,
    directoryFile,
  });
  await broker.startWorker();
  api = await startTestApi(broker, undefined, { slack: { ...settings, signingSecret, directoryFile } });
  carolCli = cliUser(api.url);
});
after(async () => {
  await api?.close();
  await broker?.close();
  await slack?.close();
  rmSync(scratch, { recursive: true, force: true });
});

const postToSlack = (signed: { body: string; headers: Record<string, string> }) =>
  fetch(`${api.url}/slack/events`, { method: 'POST', headers: signed.headers, body: signed.body });

const click = (user: { id: string }, actionId: string, grantId: string) =>
  postToSlack(
    signedInteraction(
      signingSecret,
      buttonClick({ user: user.id, actionId, grantId, channel: 'C00000001', messageTs: '1.0' }),
    ),
  );

const ephemeralsTo = (user: { id: string }) =>
  slack
    .delivered('chat.postEphemeral')
    .filter((p) => p.user === user.id)
    .map((p) => String(p.text));

const dmsTo = (user: { id: string }) =>
  slack
    .delivered('chat.postMessage')
    .filter((p) => p.channel === user.id)
    .map((p) => String(p.text));

const posts = (grantId: string) =>
  slack
    .delivered('chat.postMessage')
    .filter((p) => JSON.stringify(p.blocks ?? p.text ?? '').includes(grantId));

async function breakGlass(duration: string | number, reason = 'INC-9 database down'): Promise<string> {
  const res = await api.call('POST', '/v1/requests', {
    user: 'erin',
    body: { role: 'breakglass-admin', duration, reason },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.equal(res.body.status, 'active', 'break-glass is immediate');
  return res.body.id as string;
}

/** The grant as bob (a reviewer) reads it, once `ready` holds. */
const grantWhen = (id: string, what: string, ready: (view: any) => boolean, timeoutMs = 20_000) =>
  eventually(
    what,
    async () => {
      const res = await api.call('GET', `/v1/requests/${id}`, { user: 'bob' });
      return res.status === 200 && ready(res.body) ? res.body : undefined;
    },
    timeoutMs,
  );

async function auditEvents(
  id: string,
): Promise<{ eventId: string; type: string; actor: string; data: any }[]> {
  const res = await api.call('GET', `/v1/audit/events?grant=${id}&format=jsonl`, { user: 'dave' });
  assert.equal(res.status, 200);
  return String(res.body)
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

async function summaryRow(id: string): Promise<Record<string, string>> {
  const res = await api.call('GET', `/v1/audit/events?grant=${id}&format=csv&grants=true`, { user: 'dave' });
  assert.equal(res.status, 200);
  const [header, row] = String(res.body).trim().split('\r\n');
  const names = (header ?? '').split(',');
  // The cells checked here hold no commas or quotes.
  const cells = (row ?? '').split(',');
  return Object.fromEntries(names.map((name, i) => [name, cells[i] ?? '']));
}

test('a break-glass grant opens a review that escalates past its deadline and closes when a reviewer acknowledges it in Slack; the requester cannot', async () => {
  const id = await breakGlass('30m');
  const opened = await grantWhen(id, 'the review open', (v) => v.review?.status === 'open');
  assert.equal(
    Date.parse(opened.review.deadline) - Date.parse(opened.review.openedAt),
    2000,
    'the role’s reviewDeadline',
  );

  // The review message in the role's channel, with its two buttons.
  const message = await eventually('the review message', async () =>
    posts(id).find(
      (p) => p.channel === '#prod-access' && JSON.stringify(p.blocks).includes('Break-glass review'),
    ),
  );
  const buttons = (message.blocks as any[]).find((b) => b.type === 'actions').elements;
  assert.deepEqual(
    buttons.map((b: any) => [b.action_id, b.value]),
    [
      ['review_acknowledge', id],
      ['review_flag', id],
    ],
  );

  // Nobody decided by the deadline: it escalates, and again on the schedule.
  const escalated = await grantWhen(id, 'two escalations', (v) => v.review?.escalations >= 2);
  assert.equal(escalated.review.status, 'open', 'escalation does not close the review');
  const inEscalationChannel = posts(id).filter((p) => p.channel === '#security-escalations');
  assert.equal(
    inEscalationChannel.length,
    1,
    'the first escalation posts the review to the escalation channel',
  );
  const replies = await eventually('a reply under the escalation message', async () => {
    const found = slack
      .delivered('chat.postMessage')
      .filter((p) => p.thread_ts !== undefined && String(p.text).includes('Not reviewed by its deadline'));
    return found.length > 0 ? found : undefined;
  });
  assert.ok(replies.every((r) => r.reply_broadcast === true || r.reply_broadcast === 'true'));
  const reminders = await eventually('DMs to the reviewers', async () => {
    const bob = dmsTo(members.bob).filter((t) => t.includes(`jit review ${id}`));
    const carol = dmsTo(members.carol).filter((t) => t.includes(`jit review ${id}`));
    return bob.length > 0 && carol.length > 0 ? bob : undefined;
  });
  assert.match(reminders[0] ?? '', /used break-glass access to \*breakglass-admin\*/);
  assert.equal(
    dmsTo(members.erin).filter((t) => t.includes(`jit review ${id}`)).length,
    0,
    'the person who used the access is not asked to review it',
  );
  assert.equal(dmsTo(members.dave).filter((t) => t.includes(`jit review ${id}`)).length, 0, 'not a reviewer');

  // The person who used the access, and a non-reviewer, are refused; nothing changes.
  for (const [who, why] of [
    [members.erin, /cannot review your own break-glass access/],
    [members.dave, /not a reviewer of this role/],
  ] as const) {
    const seen = ephemeralsTo(who).length;
    assert.equal((await click(who, 'review_acknowledge', id)).status, 200);
    assert.match(await eventually('a refusal', async () => ephemeralsTo(who)[seen]), why);
  }
  assert.equal((await api.call('GET', `/v1/requests/${id}`, { user: 'bob' })).body.review.status, 'open');

  // bob acknowledges in Slack: the review closes, late, and the messages lose their buttons.
  assert.equal((await click(members.bob, 'review_acknowledge', id)).status, 200);
  const decided = await grantWhen(id, 'the review decided', (v) => v.review?.status === 'decided');
  assert.equal(decided.review.outcome, 'acknowledged');
  assert.equal(decided.review.reviewer, 'bob');
  assert.equal(decided.review.onTime, false);
  assert.equal(decided.status, 'active', 'acknowledging leaves the grant alone');
  await eventually('the review message edited to acknowledged, without buttons', async () =>
    slack.delivered('chat.update').some((u) => {
      const blocks = JSON.stringify(u.blocks);
      return (
        blocks.includes(id) &&
        blocks.includes('Acknowledged by bob@example.test (after the deadline)') &&
        !blocks.includes('review_acknowledge')
      );
    })
      ? true
      : undefined,
  );
  const again = await api.call('POST', `/v1/requests/${id}/review`, {
    user: 'carol',
    body: { outcome: 'acknowledged' },
  });
  assert.equal(again.status, 409);
  assert.equal(again.body.error.code, 'review_closed');
  const review = await broker.client.workflow.getHandle(reviewWorkflowId(id)).result();
  assert.equal(review.status, 'decided', 'the review workflow has ended');

  // Every step is on the audit trail, with the grant, and in the grant summary.
  const events = await auditEvents(id);
  const types = events.map((e) => e.type);
  for (const type of ['grant.requested', 'grant.activated', 'grant.review_opened', 'grant.review_escalated'])
    assert.ok(types.includes(type), type);
  assert.ok(types.indexOf('grant.review_opened') > types.indexOf('grant.activated'));
  const acknowledged = events.filter((e) => e.type === 'grant.review_acknowledged');
  assert.equal(acknowledged.length, 1);
  assert.equal(acknowledged[0]?.actor, 'bob');
  assert.equal(acknowledged[0]?.data.door, 'slack');
  assert.equal(acknowledged[0]?.data.onTime, false);
  const summary = await summaryRow(id);
  assert.equal(summary.break_glass, 'true');
  assert.equal(summary.review_status, 'acknowledged');
  assert.equal(summary.reviewed_by, 'bob');
  assert.equal(summary.review_on_time, 'false');
  assert.ok(Number(summary.review_escalations) >= 2);
  assert.equal(summary.review_deadline, decided.review.deadline);

  await api.call('POST', `/v1/requests/${id}/revoke`, { user: 'bob', body: { reason: 'test over' } });
});

test('a flag from Slack records why and revokes the still-active grant', async () => {
  const id = await breakGlass('30m', 'INC-10 rotate the root keys');
  await grantWhen(id, 'the review open', (v) => v.review?.status === 'open');
  const creds = await api.call('POST', `/v1/requests/${id}/credentials`, { user: 'erin' });
  assert.equal(creds.status, 200);

  const opened = slack.delivered('views.open').length;
  assert.equal((await click(members.bob, 'review_flag', id)).status, 200);
  const modal = await eventually('the flag modal', async () => slack.delivered('views.open')[opened]);
  assert.equal(modal.view.callback_id, 'review_flag_reason');
  const submission = {
    type: 'view_submission',
    team: { id: 'T0FAKE', domain: 'fake' },
    user: { id: members.bob.id, team_id: 'T0FAKE' },
    api_app_id: 'A0FAKE',
    token: 'deprecated-verification-token',
    trigger_id: 'trigger-view',
    view: {
      id: 'VFLAG1',
      type: 'modal',
      callback_id: 'review_flag_reason',
      private_metadata: modal.view.private_metadata,
      hash: 'h',
      state: {
        values: {
          reason: { reason_input: { type: 'plain_text_input', value: 'no incident INC-10 exists' } },
          revoke: { revoke_input: { type: 'checkboxes', selected_options: [{ value: 'revoke' }] } },
        },
      },
    },
  };
  assert.equal((await postToSlack(signedInteraction(signingSecret, submission))).status, 200);

  const view = await grantWhen(
    id,
    'flagged and revoked',
    (v) => v.review?.status === 'decided' && v.status === 'revoked',
  );
  assert.equal(view.review.outcome, 'flagged');
  assert.equal(view.review.comment, 'no incident INC-10 exists');
  assert.equal(view.review.revokeRequested, true);
  assert.equal(view.endedBy, 'bob');
  assert.match(view.endReason, /flagged in the post-hoc review: no incident INC-10 exists/);
  const types = (await auditEvents(id)).map((e) => e.type);
  assert.ok(types.indexOf('grant.review_flagged') < types.indexOf('grant.revoked'));
  const summary = await summaryRow(id);
  assert.equal(summary.review_status, 'flagged');
  assert.equal(summary.end_state, 'revoked');
});

test('a break-glass grant that ends unreviewed keeps its review open; a reviewer decides it with `jit review`', async () => {
  const id = await breakGlass(2, 'INC-11 restart the cluster');
  const ended = await grantWhen(id, 'expired, review still open', (v) => v.status === 'expired');
  assert.equal(ended.review.status, 'open');
  // Reviewers find it in their queue.
  const queue = await api.call('GET', '/v1/requests?review=me', { user: 'carol' });
  assert.ok(queue.body.requests.some((r: { id: string }) => r.id === id));
  const erinsQueue = await api.call('GET', '/v1/requests?review=me', { user: 'erin' });
  assert.ok(!erinsQueue.body.requests.some((r: { id: string }) => r.id === id));

  assert.equal((await loginWithCli(carolCli, 'carol')).code, 0);
  const bad = await carolCli.run('review', id, '--flag');
  assert.equal(bad.code, 64, bad.stderr);
  assert.match(bad.stderr, /--flag needs --comment/);
  const done = await carolCli.run('review', id, '--ok', '--comment', 'checked the CloudTrail session');
  assert.equal(done.code, 0, done.stderr);
  assert.match(done.stdout, /review acknowledged; grant expired/);
  const view = (await api.call('GET', `/v1/requests/${id}`, { user: 'carol' })).body;
  assert.equal(view.review.reviewer, 'carol');
  assert.equal(view.review.comment, 'checked the CloudTrail session');
  assert.equal(view.status, 'expired');
});

test('the review route refuses bad input, the wrong people and grants without a review; nothing changes', async () => {
  const id = await breakGlass('30m', 'INC-12 check refusals');
  await grantWhen(id, 'the review open', (v) => v.review?.status === 'open');
  const review = (user: 'alice' | 'bob' | 'dave' | 'erin', body: object) =>
    api.call('POST', `/v1/requests/${id}/review`, { user, body });

  const cases: [string, Awaited<ReturnType<typeof review>>, number, string][] = [
    ['a flag without a comment', await review('bob', { outcome: 'flagged' }), 400, 'validation_failed'],
    [
      'revoke with an acknowledgement',
      await review('bob', { outcome: 'acknowledged', revoke: true }),
      400,
      'validation_failed',
    ],
    ['an unknown outcome', await review('bob', { outcome: 'maybe' }), 400, 'validation_failed'],
    ['the person who used it', await review('erin', { outcome: 'acknowledged' }), 403, 'self_approval'],
    ['an auditor, who may read it', await review('dave', { outcome: 'acknowledged' }), 403, 'not_eligible'],
    ['someone who may not see it', await review('alice', { outcome: 'acknowledged' }), 404, 'not_found'],
  ];
  for (const [what, res, status, code] of cases) {
    assert.equal(res.status, status, `${what}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.error.code, code, what);
  }
  const view = (await api.call('GET', `/v1/requests/${id}`, { user: 'bob' })).body;
  assert.equal(view.review.status, 'open');
  assert.equal(view.status, 'active');

  const ordinary = await api.call('POST', '/v1/requests', {
    user: 'alice',
    body: { role: 'prod-readonly', duration: '10m', reason: 'logs' },
  });
  const none = await api.call('POST', `/v1/requests/${ordinary.body.id}/review`, {
    user: 'bob',
    body: { outcome: 'acknowledged' },
  });
  assert.equal(none.status, 409);
  assert.equal(none.body.error.code, 'no_review');
  await api.call('POST', `/v1/requests/${id}/revoke`, { user: 'bob', body: { reason: 'test over' } });
});

test('a review left open long enough to continue as new picks up its record and its escalations', async () => {
  const id = await breakGlass('30m', 'INC-13 nobody looks');
  const first = await grantWhen(id, 'an escalation', (v) => v.review?.escalations >= 1);
  // The hand-over Temporal suggests after many escalations, played by hand: this run stops, the
  // next starts from its record (ReviewStart.resume), as continueAsNew would start it.
  const handle = broker.client.workflow.getHandle(reviewWorkflowId(id));
  await handle.terminate('test: hand the review over to a new run');
  await new Promise((r) => setTimeout(r, 500));
  const reviewEvents = async () =>
    (await auditEvents(id)).filter((e) => e.eventId.startsWith(`${reviewWorkflowId(id)}:`));
  const recorded = (await reviewEvents()).length;
  const view = (await api.call('GET', `/v1/requests/${id}`, { user: 'bob' })).body;
  assert.ok(view.review.escalations >= first.review.escalations);
  const start: ReviewStart = {
    grantId: id,
    roleId: 'breakglass-admin',
    requester: principal('erin'),
    reviewerGroups: ['reviewers'],
    plan: { deadlineSeconds: 2, escalateEverySeconds: 3, escalationChannel: '#security-escalations' },
    card: {
      id,
      status: view.status,
      requester: view.requester,
      role: view.role,
      duration: view.duration,
      reason: view.reason,
      breakGlass: true,
      approvals: [],
      requiredApprovals: 0,
    },
    slack: { channel: '#prod-access' },
    resume: { recorded, review: view.review, messages: {} },
  };
  await broker.client.workflow.start(breakglassReviewWorkflowType, {
    workflowId: reviewWorkflowId(id),
    taskQueue: broker.taskQueue,
    args: [start],
  });

  const next = await grantWhen(
    id,
    'the next escalation',
    (v) => v.review?.escalations > view.review.escalations,
  );
  assert.equal(next.review.escalations, view.review.escalations + 1, 'the count goes on');
  assert.equal(next.review.deadline, view.review.deadline, 'the same review, the same deadline');
  const decided = await api.call('POST', `/v1/requests/${id}/review`, {
    user: 'carol',
    body: { outcome: 'acknowledged', comment: 'late, but looked at' },
  });
  assert.equal(decided.status, 200, JSON.stringify(decided.body));
  assert.equal(decided.body.review.reviewer, 'carol');
  const ids = (await reviewEvents()).map((e) => Number(e.eventId.split(':').pop()));
  assert.deepEqual(
    ids,
    ids.map((_, i) => i + 1),
    'event ids go on from the previous run, none reused',
  );
  assert.ok(ids.length > recorded);
  const verify = await api.call('GET', '/v1/audit/verify', { user: 'dave' });
  assert.equal(verify.body.ok, true);
  await api.call('POST', `/v1/requests/${id}/revoke`, { user: 'bob', body: { reason: 'test over' } });
});
