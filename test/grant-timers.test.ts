// The grant workflow's slow clocks, on Temporal's time-skipping test server: an extension that
// reviewers deny, one nobody decides before its deadline, and the end of the granted time. Hours of
// workflow time pass in seconds; the assertions read the read model and the audit trail, as the API
// and auditors do.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { GrantService } from '../api/grant-service.js';
import type { GrantView } from '../common/grant.js';
import { jitSearchAttributes } from '../common/search-attributes.js';
import { AssertionSigner, parseSigningKey } from '../platform/assertion-signer.js';
import { GrantClient } from '../platform/grant-client.js';
import { PolicyEngine } from '../policies/engine.js';
import type { AuditStore } from '../store/index.js';
import { createBrokerWorker } from '../worker/worker.js';
import { principal, sharedWorkflowBundle } from './support/broker.js';
import { ensurePythonTool } from './support/python-tool.js';
import { testDataConverter, testSigningKey, testVerifyKeys } from './support/stack.js';

const MINUTE = 60;
const HOUR = 3600;

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
let service: GrantService;
let store: AuditStore;
let closeActivities: () => Promise<void>;
let scratch: string;
/** Test-server time minus wall time: assertions are signed on the workflows' clock. */
let skewMs = 0;

/** The test server has no DescribeTaskQueue; this file's worker polls for as long as it runs. */
class InProcessGrantClient extends GrantClient {
  override async workerPolls(): Promise<boolean> {
    return true;
  }
}

/** Moves the test server's clock on and keeps the front door's signing clock with it. */
async function pass(seconds: number): Promise<void> {
  await env.sleep(seconds * 1000);
  skewMs = (await env.currentTimeMs()) - Date.now();
}

before(async () => {
  env = await TestWorkflowEnvironment.createTimeSkipping({
    server: {
      executable: {
        type: 'existing-path',
        path: ensurePythonTool('temporal-test-server', 'temporal-test-server'),
      },
    },
  });
  // Registered as on the dev server (infra/temporal/server.ts): grants carry them from the start.
  const { IndexedValueType } = proto.temporal.api.enums.v1;
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      jitSearchAttributes.map((key) => [
        key.name,
        key.type === 'DATETIME'
          ? IndexedValueType.INDEXED_VALUE_TYPE_DATETIME
          : IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
      ]),
    ),
  });
  scratch = mkdtempSync(join(tmpdir(), 'jit-timers-'));
  const taskQueue = 'grants-time-skipping';
  const client = new Client({ connection: env.connection, dataConverter: testDataConverter() });
  const engine = PolicyEngine.load();
  const made = await createActivities({
    // No step here reaches AWS: no credentials are asked for, so no session needs covering.
    config: {
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      DATABASE_URL: `sqlite:${join(scratch, 'audit.sqlite')}`,
      TEMPORAL_TASK_QUEUE: taskQueue,
    },
    engine,
    client,
  });
  store = made.store;
  closeActivities = made.close;
  worker = await createBrokerWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    activities: made.activities,
    dataConverter: testDataConverter(),
    workflowBundle: await sharedWorkflowBundle(),
    assertionVerifyKeys: testVerifyKeys,
  });
  running = worker.run();
  const signer = new AssertionSigner(parseSigningKey(testSigningKey), 'api', () => Date.now() + skewMs);
  service = new GrantService({
    grants: new InProcessGrantClient({ client, taskQueue, signer }),
    store,
    engine,
    console: { federationEndpoint: 'http://127.0.0.1:9/federation', destination: 'https://x.test/' },
  });
});

after(async () => {
  worker?.shutdown();
  await running;
  await closeActivities?.();
  await env?.teardown();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const alice = principal('alice');
const bob = principal('bob');
const carol = principal('carol');

/** An approved prod-admin grant of alice's for an hour (two approvals). */
async function activeAdminGrant(ticket: string): Promise<GrantView> {
  const { view } = await service.start(alice, {
    role: 'prod-admin',
    durationSeconds: HOUR,
    reason: 'rotate keys',
    ticket,
  });
  assert.equal(view.status, 'pending');
  await service.approve(bob, view.id, undefined);
  const active = await service.approve(carol, view.id, undefined);
  assert.equal(active.status, 'active');
  return active;
}

const eventTypes = async (id: string) =>
  (await store.grants.get(id))?.timeline.map((t: { type: string }) => t.type) ?? [];

/** The read model, once the workflow has recorded what the clock did. */
async function viewWhen(id: string, what: string, ok: (v: GrantView) => boolean): Promise<GrantView> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const view = await store.grants.get(id);
    if (view && ok(view)) return view;
    if (Date.now() > deadline) assert.fail(`${what}: ${JSON.stringify(view)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('extensions on the workflow clock', () => {
  test('a denied extension leaves the grant active and its end where it was', async () => {
    const grant = await activeAdminGrant('INC-701');
    const asked = await service.extend(alice, grant.id, 30 * MINUTE, 'still rotating');
    assert.equal(asked.pendingExtension?.durationSeconds, 30 * MINUTE);
    assert.equal(asked.expiresAt, grant.expiresAt, 'nothing granted before review');

    await pass(10 * MINUTE);
    const denied = await service.deny(bob, grant.id, 'finish within the hour');
    assert.equal(denied.status, 'active');
    assert.equal(denied.pendingExtension, undefined);
    assert.equal(denied.expiresAt, grant.expiresAt);
    assert.equal(denied.duration, HOUR);
    assert.equal(denied.extensions ?? 0, 0);
    assert.deepEqual((await eventTypes(grant.id)).slice(-2), ['extension_requested', 'extension_denied']);

    // A new extension may be asked for once the first is decided.
    const again = await service.extend(alice, grant.id, 15 * MINUTE, 'one more step');
    assert.equal(again.pendingExtension?.durationSeconds, 15 * MINUTE);

    // The original hour ends it: the pending ask does not hold the grant open.
    await pass(50 * MINUTE + 1);
    const ended = await viewWhen(grant.id, 'expired at the original end', (v) => v.status === 'expired');
    assert.equal(ended.expiresAt, grant.expiresAt);
    assert.equal(ended.duration, HOUR);
  });

  test('an extension nobody decides times out at the approval timeout; the grant runs on to its end', async () => {
    const grant = await activeAdminGrant('INC-702');
    await service.extend(alice, grant.id, 30 * MINUTE, 'still rotating');

    // prod-admin's approval timeout is 30m: just before it the ask still waits.
    await pass(30 * MINUTE - 10);
    assert.ok((await store.grants.get(grant.id))?.pendingExtension, 'still pending before the deadline');
    await pass(20);
    const lapsed = await viewWhen(grant.id, 'extension timed out', (v) => !v.pendingExtension);
    assert.equal(lapsed.status, 'active');
    assert.equal(lapsed.expiresAt, grant.expiresAt);
    assert.equal((await eventTypes(grant.id)).at(-1), 'extension_timed_out');

    // A late approval finds nothing to approve.
    await assert.rejects(service.approve(bob, grant.id, undefined), (err: { code?: string }) => {
      assert.equal(err.code, 'already_decided');
      return true;
    });

    await pass(30 * MINUTE);
    const ended = await viewWhen(grant.id, 'expired', (v) => v.status === 'expired');
    assert.equal(ended.duration, HOUR);
    assert.equal(ended.endedBy, 'system');
  });

  test('an approved extension moves the end; the grant expires at the new end, not the old one', async () => {
    const grant = await activeAdminGrant('INC-703');
    await service.extend(alice, grant.id, 30 * MINUTE, 'longer change window');
    await service.approve(bob, grant.id, undefined);
    const extended = await service.approve(carol, grant.id, undefined);
    assert.equal(extended.duration, HOUR + 30 * MINUTE);
    assert.equal(
      Date.parse(extended.expiresAt as string),
      Date.parse(grant.expiresAt as string) + 30 * 60_000,
    );

    await pass(HOUR + 60);
    assert.equal((await store.grants.get(grant.id))?.status, 'active', 'past the old end, still active');
    await pass(30 * MINUTE);
    await viewWhen(grant.id, 'expired at the new end', (v) => v.status === 'expired');
  });
});

describe('requests on the workflow clock', () => {
  test('a request nobody decides times out after the approval timeout and never activates', async () => {
    const { view } = await service.start(alice, {
      role: 'prod-admin',
      durationSeconds: HOUR,
      reason: 'rotate keys',
      ticket: 'INC-704',
    });
    await service.approve(bob, view.id, undefined);
    await pass(30 * MINUTE + 1);
    const ended = await viewWhen(view.id, 'timed out', (v) => v.status === 'timed_out');
    assert.equal(ended.activatedAt, undefined);
    assert.equal(ended.approvals.length, 1);
    await assert.rejects(service.approve(carol, view.id, undefined), (err: { code?: string }) => {
      assert.equal(err.code, 'already_decided');
      return true;
    });
  });
});
