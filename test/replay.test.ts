// Determinism guard: grant and ledger histories, recorded now and committed earlier, must replay
// against the current workflow code. A change that breaks replay of running grants fails here.
// `JIT_RECORD_HISTORIES=1 npx tsx test/run.ts test/replay.test.ts` refreshes the committed ones;
// `JIT_RECORD_HISTORIES=<label>` adds a set named `<scenario>-<label>` and keeps the older ones.
// The broker talks to a fake Slack, so the Slack steps of the workflow are replayed too.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Resource } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { WorkflowHandle } from '@temporalio/client';
import { makeWorkflowExporter } from '@temporalio/interceptors-opentelemetry/lib/worker/index.js';
import proto from '@temporalio/proto';
import { type ReplayResult, Worker } from '@temporalio/worker';
import { ulid } from 'ulid';
import { ledgerWorkflowId } from '../common/grant-messages.js';
import { reviewWorkflowId } from '../common/review-messages.js';
import { bundleWorkflowsInChildProcess } from '../worker/bundle.js';
import { workflowsPath } from '../worker/worker.js';
import { eventually } from './support/assertions.js';
import { principal, startTestBroker, type TestBroker } from './support/broker.js';
import { type FakeSlack, startFakeSlack } from './support/fake-slack.js';
import { testDataConverter } from './support/stack.js';

const { History } = proto.temporal.api.history.v1;
// Binary protobuf: the form the server itself stores, decodable by any SDK version.
const fixturesDir = join(import.meta.dirname, 'fixtures', 'histories');
let broker: TestBroker;
let slack: FakeSlack;

before(async () => {
  slack = await startFakeSlack({ members: [] });
  broker = await startTestBroker({
    overrides: {
      'prod-admin': { approvalTimeout: '2s', remindAfter: '1s', maxReminders: 1 },
      'breakglass-admin': { reviewDeadline: '1s', reviewEscalateEvery: '1s' },
    },
    slack: { botToken: slack.botToken, apiUrl: slack.apiUrl },
  });
  await broker.startWorker();
});
after(async () => {
  await broker.close();
  await slack.close();
});

const until = (grant: WorkflowHandle, status: string) =>
  eventually(status, async () => ((await broker.view(grant)).status === status ? true : undefined), 15_000);

/** Drives one grant through every kind of decision the workflow handles. */
async function scenarios(): Promise<Record<string, WorkflowHandle>> {
  const admin = await broker.request('alice', 'prod-admin', {
    durationSeconds: 3600,
    ticket: 'INC-7',
    reason: 'replay',
  });
  await eventually('decision', async () => ((await broker.view(admin)).requiredApprovals ? true : undefined));
  await broker.approve(admin, 'bob', 'ok');
  await broker.approve(admin, 'carol');
  await broker.credentials(admin, 'alice');
  await broker.extend(admin, 'alice', 600, 'more time');
  await broker.deny(admin, 'bob', 'no more');
  await broker.extend(admin, 'alice', 600, 'please');
  await broker.approve(admin, 'bob');
  await broker.approve(admin, 'carol');
  await broker.revoke(admin, 'alice', 'done early');

  const expiring = await broker.request('alice', 'prod-readonly', { durationSeconds: 2 });
  await until(expiring, 'active');
  await broker.credentials(expiring, 'alice');
  await until(expiring, 'expired');

  const timedOut = await broker.request('alice', 'prod-admin', { durationSeconds: 600, ticket: 'INC-8' });
  await until(timedOut, 'timed_out');
  const cancelled = await broker.request('alice', 'prod-admin', { durationSeconds: 600, ticket: 'INC-9' });
  await eventually('decision', async () =>
    (await broker.view(cancelled)).requiredApprovals ? true : undefined,
  );
  await broker.service.nudge(principal('alice'), cancelled.workflowId);
  await broker.cancel(cancelled, 'alice');
  // The front door refuses this request itself; signed as allowed (a catalog changed between door
  // and worker, say), the workflow's own policy evaluation still denies it.
  const refusedId = `grant-${ulid()}`;
  await broker.grants.start(
    principal('alice'),
    { allowed: true, policyIds: [] },
    {
      grantId: refusedId,
      roleId: 'breakglass-admin',
      durationSeconds: 600,
      reason: 'replay',
    },
  );
  const refused = broker.client.workflow.getHandle(refusedId);
  await until(refused, 'denied');

  // Break-glass: the grant opens its review, which escalates, is acknowledged, and ends.
  const breakGlass = await broker.request('erin', 'breakglass-admin', { durationSeconds: 600 });
  await eventually('an escalated review', async () =>
    ((await broker.view(breakGlass)).review?.escalations ?? 0) > 0 ? true : undefined,
  );
  await broker.service.review(principal('bob'), breakGlass.workflowId, { outcome: 'acknowledged' });
  await broker.revoke(breakGlass, 'bob', 'replay');
  const review = broker.client.workflow.getHandle(reviewWorkflowId(breakGlass.workflowId));
  await review.result();

  const ledger = broker.client.workflow.getHandle(ledgerWorkflowId(broker.roleArns['prod-admin'] as string));
  return {
    'grant-breakglass': breakGlass,
    'review-decided': review,
    'grant-full': admin,
    'grant-expired': expiring,
    'grant-timed-out': timedOut,
    'grant-cancelled': cancelled,
    'grant-refused': refused,
    'ledger-running': ledger,
  };
}

let tracedBundle: Promise<{ code: string }> | undefined;

/**
 * Replays each history twice: as the workflows alone, and as the worker runs them, with the
 * tracing interceptors bundled and a span sink (a workflow started untraced must stay untraced).
 */
async function replay(histories: { workflowId: string; history: unknown }[]): Promise<ReplayResult[]> {
  const results: ReplayResult[] = [];
  const plain = { workflowsPath, dataConverter: testDataConverter() };
  for await (const result of Worker.runReplayHistories(plain, histories as never)) results.push(result);
  tracedBundle ??= bundleWorkflowsInChildProcess();
  const traced = {
    workflowBundle: await tracedBundle,
    dataConverter: testDataConverter(),
    sinks: {
      exporter: makeWorkflowExporter(new SimpleSpanProcessor(new InMemorySpanExporter()), Resource.empty()),
    },
  };
  for await (const result of Worker.runReplayHistories(traced, histories as never))
    results.push({ ...result, workflowId: `${result.workflowId} (with the tracing interceptors)` });
  return results;
}

test('histories recorded in this run replay without a determinism error', async () => {
  const handles = await scenarios();
  const recorded = await Promise.all(
    Object.entries(handles).map(async ([name, handle]) => ({
      name,
      workflowId: handle.workflowId,
      history: await handle.fetchHistory(),
    })),
  );
  const results = await replay(recorded);
  assert.equal(results.length, recorded.length * 2);
  for (const result of results)
    assert.equal(result.error, undefined, `${result.workflowId}: ${String(result.error)}`);

  const label = process.env.JIT_RECORD_HISTORIES;
  if (label) {
    mkdirSync(fixturesDir, { recursive: true });
    for (const { name, history } of recorded) {
      const file = label === '1' ? `${name}.binpb` : `${name}-${label}.binpb`;
      writeFileSync(join(fixturesDir, file), History.encode(history).finish());
    }
  }
});

test('committed histories from earlier versions replay against this code', async () => {
  const files = readdirSync(fixturesDir).filter((f) => f.endsWith('.binpb'));
  assert.ok(files.length >= 6, 'the recorded histories are missing from test/fixtures/histories');
  const results = await replay(
    files.map((file) => ({
      workflowId: file,
      history: History.decode(readFileSync(join(fixturesDir, file))),
    })),
  );
  for (const result of results)
    assert.equal(result.error, undefined, `${result.workflowId}: ${String(result.error)}`);
});
