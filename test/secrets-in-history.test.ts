// Invariant 4: secret material never reaches Temporal history, search attributes or the audit trail.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import proto from '@temporalio/proto';
import { openAuditStore } from '../store/index.js';
import { eventually } from './support/assertions.js';
import { startTestBroker, type TestBroker } from './support/broker.js';

const { temporal } = proto;
let broker: TestBroker;
before(async () => {
  broker = await startTestBroker();
  await broker.startWorker();
});
after(() => broker.close());

test('the raw history of a grant that issued credentials holds neither the secret key nor the session token', async () => {
  const grant = await broker.request('alice', 'prod-readonly', {
    durationSeconds: 1800,
    reason: 'secret check',
  });
  await eventually('active', async () => ((await broker.view(grant)).status === 'active' ? true : undefined));
  const creds = await broker.credentials(grant, 'alice');
  await broker.revoke(grant, 'bob', 'done');
  await eventually('closed', async () =>
    (await grant.describe()).status.name === 'COMPLETED' ? true : undefined,
  );

  // What the server stores, before any codec runs.
  const { history } = await broker.client.workflowService.getWorkflowExecutionHistory({
    namespace: 'default',
    execution: { workflowId: grant.workflowId },
  });
  const raw = Buffer.from(temporal.api.history.v1.History.encode(history ?? {}).finish());
  for (const secret of [creds.SecretAccessKey, creds.SessionToken]) {
    assert.equal(raw.includes(Buffer.from(secret)), false, 'a secret is in the raw history');
    assert.equal(raw.includes(Buffer.from(secret).toString('base64')), false);
  }
  // Not even the access key id is readable: every payload is encrypted.
  assert.equal(raw.includes(Buffer.from(creds.AccessKeyId)), false);
  const payloads = (history?.events ?? []).flatMap((e) => [
    ...(e.activityTaskCompletedEventAttributes?.result?.payloads ?? []),
    ...(e.workflowExecutionUpdateCompletedEventAttributes?.outcome?.success?.payloads ?? []),
  ]);
  assert.ok(payloads.length > 0);
  for (const payload of payloads) {
    assert.equal(Buffer.from(payload.metadata?.encoding ?? []).toString(), 'binary/encrypted');
  }

  // The audit trail keeps the key id for CloudTrail correlation, never the secret parts.
  const store = await openAuditStore(broker.auditDatabaseUrl);
  let audit = '';
  for await (const chunk of store.exportEvents({ grantId: grant.workflowId }, 'jsonl')) audit += chunk;
  await store.close();
  assert.ok(audit.includes(creds.AccessKeyId));
  assert.equal(audit.includes(creds.SecretAccessKey), false);
  assert.equal(audit.includes(creds.SessionToken), false);
});
