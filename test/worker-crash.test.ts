// A worker killed mid-grant loses nothing: a new worker process expires the grant on time and
// hands its live session to the revocation ledger.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ledgerStateQuery, ledgerWorkflowId } from '../common/grant-messages.js';
import { eventually } from './support/assertions.js';
import { startTestBroker, type TestBroker } from './support/broker.js';

let broker: TestBroker;
before(async () => {
  broker = await startTestBroker();
});
after(() => broker.close());

test('SIGKILL of the worker mid-grant: the next worker expires the grant on time and updates the ledger', async (t) => {
  const first = await broker.spawnWorker();
  const grant = await broker.request('alice', 'prod-readonly', {
    durationSeconds: 25,
    reason: 'crash drill',
  });
  const active = await eventually(
    'active',
    async () => {
      const view = await broker.view(grant);
      return view.status === 'active' ? view : undefined;
    },
    60_000,
  );
  const creds = await broker.credentials(grant, 'alice');
  assert.ok(Date.parse(creds.Expiration) <= Date.parse(active.expiresAt ?? ''));

  first.kill('SIGKILL');
  await new Promise((resolve) => first.once('exit', resolve));
  await new Promise((resolve) => setTimeout(resolve, 2000));
  await broker.spawnWorker();

  const ended = await eventually(
    'expired',
    async () => {
      const view = await broker.view(grant);
      return view.status === 'expired' ? view : undefined;
    },
    60_000,
  );
  const lagMs = Date.parse(ended.endedAt ?? '') - Date.parse(active.expiresAt ?? '');
  t.diagnostic(`expired ${lagMs} ms after its time (worker killed and replaced mid-grant)`);
  assert.ok(lagMs >= 0 && lagMs < 5000, `expired ${lagMs} ms after its time`);

  const ledger = broker.client.workflow.getHandle(
    ledgerWorkflowId(broker.roleArns['prod-readonly'] as string),
  );
  const state = await eventually('ledger entry', async () => {
    const s = await ledger.query(ledgerStateQuery);
    return s.entries.some((e) => e.grantId === grant.workflowId) ? s : undefined;
  });
  assert.equal(state.entries.length, 1);
});
