import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, type NativeConnection } from '@temporalio/worker';
import { createAwsActivities } from '../activities/aws.js';
import { DEV_ACCOUNT_ID } from '../infra/aws/seed.js';
import { awsOperations } from '../integrations/aws.js';
import { createBrokerWorker } from '../worker/worker.js';
import { assumeRoleOnce } from './fixtures/assume-role-workflow.js';
import {
  brokerIam,
  brokerSts,
  stsWith,
  temporalClient,
  testDataConverter,
  testVerifyKeys,
  uniqueTaskQueue,
  workerConnection,
} from './support/stack.js';

const fixtureWorkflows = fileURLToPath(new URL('./fixtures/assume-role-workflow.ts', import.meta.url));
const roleArn = `arn:aws:iam::${DEV_ACCOUNT_ID}:role/jit-prod-readonly`;
const quiet = () => {};
const quietBundler = {
  trace: quiet,
  debug: quiet,
  info: quiet,
  warn: quiet,
  log: quiet,
  error: console.error,
};

let client: Client;
let closeClient: () => Promise<void>;
let connection: NativeConnection;
const sts = brokerSts();
const iam = brokerIam();

before(async () => {
  ({ client, close: closeClient } = await temporalClient());
  connection = await workerConnection();
});

after(async () => {
  sts.destroy();
  iam.destroy();
  await closeClient();
  await connection.close();
});

test('a workflow on the dev server assumes a moto role through the AWS activity', async () => {
  const taskQueue = uniqueTaskQueue('local-stack');
  const worker = await createBrokerWorker({
    connection,
    namespace: 'default',
    taskQueue,
    activities: createAwsActivities({ aws: awsOperations({ sts, iam }), hasEnded: async () => false }),
    dataConverter: testDataConverter(),
    workflowBundle: await bundleWorkflowCode({ workflowsPath: fixtureWorkflows, logger: quietBundler }),
    assertionVerifyKeys: testVerifyKeys,
  });
  const creds = await worker.runUntil(
    client.workflow.execute(assumeRoleOnce, {
      taskQueue,
      workflowId: `local-stack-${Date.now()}`,
      args: [
        {
          roleArn,
          sessionName: 'jit-smoke-alice',
          sourceIdentity: 'alice',
          durationSeconds: 900,
          tags: { 'jit-grant': 'grant-smoke', 'jit-requester': 'alice' },
        },
      ],
    }),
  );

  assert.match(creds.accessKeyId, /^ASIA/);
  assert.equal(
    creds.assumedRoleArn,
    `arn:aws:sts::${DEV_ACCOUNT_ID}:assumed-role/jit-prod-readonly/jit-smoke-alice`,
  );
  const session = stsWith(creds);
  try {
    const who = await session.send(new GetCallerIdentityCommand({}));
    assert.equal(who.Arn, creds.assumedRoleArn);
    assert.equal(who.UserId, creds.assumedRoleId);
  } finally {
    session.destroy();
  }
});

test('the broker itself runs as its seeded dev principal', async () => {
  const who = await sts.send(new GetCallerIdentityCommand({}));
  assert.equal(who.Arn, `arn:aws:iam::${DEV_ACCOUNT_ID}:user/jit-broker`);
});
