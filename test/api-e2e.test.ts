// The whole path a user takes, over HTTP: dev-issuer tokens → request → two approvals →
// credentials → AWS accepts them → the grant expires → credentials refused.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { startTestApi, type TestApi } from './support/api.js';
import { eventually } from './support/assertions.js';
import { startTestBroker, type TestBroker } from './support/broker.js';
import { stsWith } from './support/stack.js';

let broker: TestBroker;
let api: TestApi;
before(async () => {
  broker = await startTestBroker();
  await broker.startWorker();
  api = await startTestApi(broker);
});
after(async () => {
  await api.close();
  await broker.close();
});

test('engineer requests prod-admin, two reviewers approve, credentials work on AWS until the grant expires', async () => {
  const requested = await api.call('POST', '/v1/requests', {
    user: 'alice',
    body: { role: 'prod-admin', duration: 20, reason: 'INC-900 hotfix', ticket: 'INC-900' },
  });
  assert.equal(requested.status, 202);
  const id = requested.body.id as string;

  assert.equal(
    (await api.call('POST', `/v1/requests/${id}/approve`, { user: 'bob', body: { comment: 'go' } })).status,
    200,
  );
  const approved = await api.call('POST', `/v1/requests/${id}/approve`, { user: 'carol', body: {} });
  assert.equal(approved.body.status, 'active');

  const creds = await api.call('POST', `/v1/requests/${id}/credentials`, { user: 'alice' });
  assert.equal(creds.status, 200);
  const sts = stsWith({
    accessKeyId: creds.body.AccessKeyId,
    secretAccessKey: creds.body.SecretAccessKey,
    sessionToken: creds.body.SessionToken,
  });
  try {
    const who = await sts.send(new GetCallerIdentityCommand({}));
    assert.match(who.Arn ?? '', /:assumed-role\/jit-t[0-9a-f]+-prod-admin\/jit-[0-9A-Z]{26}-1$/);
  } finally {
    sts.destroy();
  }
  assert.ok(Date.parse(creds.body.Expiration) <= Date.parse(approved.body.expiresAt));

  const expired = await eventually(
    'expired',
    async () => {
      const res = await api.call('GET', `/v1/requests/${id}`, { user: 'alice' });
      return res.body.status === 'expired' ? res.body : undefined;
    },
    40_000,
  );
  assert.equal(expired.endedBy, 'system');
  const late = await api.call('POST', `/v1/requests/${id}/credentials`, { user: 'alice' });
  assert.equal(late.status, 409);
  assert.equal(late.body.error.code, 'grant_not_active');
});
