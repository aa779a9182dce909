// The grants read model: reads never touch Temporal, a read right after a decision shows it, the
// list's filters and cursor, who sees what, and the model equals a fold of the audit trail.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { GrantListItem, GrantView } from '../common/grant.js';
import { rawConnectionForTests } from '../store/index.js';
import { startTestApi, type TestApi } from './support/api.js';
import { type DevUserName, principal, startTestBroker, type TestBroker } from './support/broker.js';

let broker: TestBroker;
let api: TestApi;

before(async () => {
  broker = await startTestBroker({
    overrides: { 'prod-readonly': { maxDuration: '1h', autoApproveMax: '1h' } },
  });
  await broker.startWorker();
  api = await startTestApi(broker);
});
after(async () => {
  await api.close();
  await broker.close();
});

const ticket = (n: number) => `INC-${n}`;
async function request(user: DevUserName, body: Record<string, unknown>): Promise<GrantView> {
  const res = await api.call('POST', '/v1/requests', { user, body });
  assert.ok(res.status === 201 || res.status === 202, JSON.stringify(res.body));
  return res.body as GrantView;
}
const adminRequest = (n: number) => ({
  role: 'prod-admin',
  duration: '1h',
  reason: 'read model',
  ticket: ticket(n),
});
async function list(
  user: DevUserName,
  query = '',
): Promise<{ requests: GrantListItem[]; nextCursor?: string }> {
  const res = await api.call('GET', `/v1/requests${query}`, { user });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}
const ids = (page: { requests: GrantListItem[] }) => page.requests.map((g) => g.id);

describe('read your writes', () => {
  test('a GET right after each decision shows that state or a later one', async () => {
    const created = await request('alice', adminRequest(1));
    const get = async () =>
      (await api.call('GET', `/v1/requests/${created.id}`, { user: 'alice' })).body as GrantView;
    assert.equal((await get()).status, 'pending');
    assert.equal((await get()).requiredApprovals, 2);

    const first = await api.call('POST', `/v1/requests/${created.id}/approve`, { user: 'bob', body: {} });
    assert.equal(first.body.approvals.length, 1);
    assert.deepEqual(
      (await get()).approvals.map((a) => a.by),
      [principal('bob').sub],
    );

    const second = await api.call('POST', `/v1/requests/${created.id}/approve`, { user: 'carol', body: {} });
    assert.equal(second.body.status, 'active');
    const afterApproval = await get();
    assert.equal(afterApproval.status, 'active');
    assert.equal(afterApproval.expiresAt, second.body.expiresAt);

    const creds = await api.call('POST', `/v1/requests/${created.id}/credentials`, { user: 'alice' });
    assert.equal(creds.status, 200);
    assert.equal((await get()).sessions.length, 1);

    const revoked = await api.call('POST', `/v1/requests/${created.id}/revoke`, {
      user: 'alice',
      body: { reason: 'done' },
    });
    assert.equal(revoked.body.status, 'revoked');
    const ended = await get();
    assert.equal(ended.status, 'revoked');
    assert.deepEqual(ended, revoked.body, 'the answer and the read model are the same view');
  });
});

describe('reads never touch Temporal', () => {
  test('with no worker polling, GET and list still answer from the store', async () => {
    const grant = await request('alice', { role: 'prod-readonly', duration: '10m', reason: 'offline read' });
    await broker.stopWorker();
    try {
      // A Temporal query needs a worker to answer; these answer at once.
      const one = await api.call('GET', `/v1/requests/${grant.id}`, { user: 'alice' });
      assert.equal(one.status, 200);
      assert.equal(one.body.status, 'active');
      assert.ok(ids(await list('alice')).includes(grant.id));
    } finally {
      await broker.startWorker();
    }
  });
});

describe('no worker', () => {
  test('a command is refused at once with a retryable 503 and readiness says why', async () => {
    const idle = await startTestBroker();
    const idleApi = await startTestApi(idle);
    try {
      const res = await idleApi.call('POST', '/v1/requests', {
        user: 'alice',
        body: { role: 'prod-readonly', duration: '10m', reason: 'no worker' },
      });
      assert.equal(res.status, 503);
      assert.equal(res.body.error.code, 'worker_unavailable');
      assert.ok(Number(res.headers.get('retry-after')) > 0);
      assert.deepEqual((await idle.store.grants.list({ visibleTo: 'all' }, 10)).items, [], 'nothing started');
      const ready = await idleApi.call('GET', '/readyz');
      assert.equal(ready.status, 503);
      assert.match(ready.body.error.message, /worker/);
    } finally {
      await idleApi.close();
      await idle.close();
    }
  });
});

describe('the list', () => {
  test('filters: status, role, requester, time range', async () => {
    const since = new Date().toISOString();
    const ro = await request('erin', { role: 'prod-readonly', duration: '10m', reason: 'filters' });
    const admin = await request('erin', adminRequest(2));
    const mine = await list('erin', `?from=${encodeURIComponent(since)}`);
    assert.deepEqual(ids(mine), [admin.id, ro.id], 'newest first');
    assert.deepEqual(ids(await list('erin', `?from=${encodeURIComponent(since)}&status=active`)), [ro.id]);
    assert.deepEqual(ids(await list('erin', `?from=${encodeURIComponent(since)}&status=pending,active`)), [
      admin.id,
      ro.id,
    ]);
    assert.deepEqual(ids(await list('erin', `?from=${encodeURIComponent(since)}&role=prod-admin`)), [
      admin.id,
    ]);
    assert.deepEqual(
      ids(await list('erin', `?to=${encodeURIComponent(since)}&role=prod-admin`)).includes(admin.id),
      false,
    );
    const byRequester = await list('dave', `?requester=${encodeURIComponent(principal('erin').sub)}`);
    assert.ok(ids(byRequester).includes(ro.id) && ids(byRequester).includes(admin.id));
    assert.ok(byRequester.requests.every((g) => g.requester.sub === principal('erin').sub));
  });

  test('"waiting for my review": pending, reviewable, not yet approved by me, never my own', async () => {
    const grant = await request('alice', adminRequest(3));
    assert.ok(ids(await list('bob', '?review=me')).includes(grant.id));
    assert.ok(ids(await list('carol', '?review=me')).includes(grant.id));
    assert.ok(!ids(await list('alice', '?review=me')).includes(grant.id), 'not the requester');
    assert.ok(!ids(await list('dave', '?review=me')).includes(grant.id), 'auditors do not review');
    await api.call('POST', `/v1/requests/${grant.id}/approve`, { user: 'bob', body: {} });
    assert.ok(!ids(await list('bob', '?review=me')).includes(grant.id), 'bob has decided');
    assert.ok(ids(await list('carol', '?review=me')).includes(grant.id));
    await api.call('POST', `/v1/requests/${grant.id}/approve`, { user: 'carol', body: {} });
    assert.ok(!ids(await list('carol', '?review=me')).includes(grant.id), 'active: nothing waits');
    // An extension waiting for approval is in the queue again.
    await api.call('POST', `/v1/requests/${grant.id}/extend`, {
      user: 'alice',
      body: { duration: '30m', reason: 'more' },
    });
    assert.ok(ids(await list('bob', '?review=me')).includes(grant.id));
  });

  test('the cursor pages without repeats or gaps, also while grants are written', async () => {
    const since = new Date().toISOString();
    const made: string[] = [];
    for (let i = 0; i < 5; i++)
      made.push((await request('erin', { role: 'prod-readonly', duration: '5m', reason: `page ${i}` })).id);
    const q = `?from=${encodeURIComponent(since)}&limit=2`;
    const first = await list('erin', q);
    assert.equal(first.requests.length, 2);
    assert.ok(first.nextCursor);
    // Written between pages: newer than the cursor, so never on a later page.
    const late = await request('erin', { role: 'prod-readonly', duration: '5m', reason: 'late' });
    const seen = [...ids(first)];
    let cursor: string | undefined = first.nextCursor;
    while (cursor) {
      const page = await list('erin', `${q}&cursor=${cursor}`);
      seen.push(...ids(page));
      cursor = page.nextCursor;
    }
    assert.deepEqual(seen, [...made].reverse());
    assert.ok(!seen.includes(late.id));
    const bad = await api.call('GET', '/v1/requests?cursor=bm90LWEtY3Vyc29y', { user: 'erin' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'invalid_argument');
  });

  test('who sees what: own grants; reviewers the roles they review; auditors all; others 404', async () => {
    const admin = await request('alice', adminRequest(4));
    const see = async (user: DevUserName) =>
      (await api.call('GET', `/v1/requests/${admin.id}`, { user })).status;
    assert.equal(await see('alice'), 200, 'the requester');
    assert.equal(await see('bob'), 200, 'a reviewer of prod-admin');
    assert.equal(await see('dave'), 200, 'an auditor');
    assert.equal(await see('erin'), 404, 'another engineer');
    assert.ok(ids(await list('bob')).includes(admin.id));
    assert.ok(ids(await list('dave')).includes(admin.id));
    assert.ok(!ids(await list('erin')).includes(admin.id));
    // A filter cannot widen what one may see.
    const asked = await list('erin', `?requester=${encodeURIComponent(principal('alice').sub)}`);
    assert.deepEqual(ids(asked), []);
  });
});

describe('extensions', () => {
  test('two extends at once: one is taken, the other refused; the cap holds', async () => {
    const grant = await request('alice', { role: 'prod-readonly', duration: '30m', reason: 'race' });
    const extend = () =>
      api.call('POST', `/v1/requests/${grant.id}/extend`, {
        user: 'alice',
        body: { duration: '30m', reason: 'race' },
      });
    const answers = await Promise.all([extend(), extend()]);
    const statuses = answers.map((a) => a.status).sort();
    assert.deepEqual(statuses, [200, 409], JSON.stringify(answers.map((a) => a.body)));
    const refusedAnswer = answers.find((a) => a.status === 409);
    assert.ok(['extension_pending', 'extension_exceeds_cap'].includes(refusedAnswer?.body.error.code));
    const view = (await api.call('GET', `/v1/requests/${grant.id}`, { user: 'alice' })).body as GrantView;
    assert.equal(view.duration, 3600, 'exactly one extension: 30m + 30m, the role cap');
  });
});

describe('rebuild', () => {
  test('a damaged read model is detected and rebuilt from the audit trail', async () => {
    const grant = await request('alice', { role: 'prod-readonly', duration: '10m', reason: 'rebuild' });
    assert.deepEqual(await broker.store.checkReadModel(), []);
    const { db } = rawConnectionForTests(broker.store);
    await sql`update grants set status = 'revoked' where id = ${grant.id}`.execute(db);
    const differences = await broker.store.checkReadModel();
    assert.deepEqual(differences, [{ grantId: grant.id, problem: 'different' }]);
    const count = await broker.store.rebuildReadModel();
    assert.ok(count >= 1);
    assert.deepEqual(await broker.store.checkReadModel(), []);
    assert.equal((await broker.store.grants.get(grant.id))?.status, 'active');
  });
});
