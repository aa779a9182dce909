// The Step Functions handoff for real on moto (no Docker): the example deploy state machine of
// infra/stepfunctions/ runs on moto's ASL interpreter, asks the broker for access through the
// request queue, and the broker's queue door (in this process) and grant workflow answer it.
// Scenarios: approval -> SUCCEEDED (deploy runner fetches credentials with its own identity, the
// grant is given back on the way out), deny -> Catch, approval timeout -> Catch, stopped while
// pending -> cancelled, stopped while active -> revoked, a redelivered message, a sender or an
// execution the catalog does not map.
//
// moto's interpreter signs its SQS calls with a fixed fake key, so it cannot run with IAM
// enforcement on; this file runs its own moto without it (README, "Step Functions").
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { parse } from 'yaml';
import type { GrantView } from '../common/grant.js';
import { enableStepFunctionsExecution, startMoto } from '../infra/aws/moto.js';
import { repoRoot } from '../infra/paths.js';
import { freePort, type RunningService } from '../infra/process.js';
import { awsOperations, createAwsClients } from '../integrations/aws.js';
import type { ReceivedMessage } from '../integrations/sqs.js';
import { sqsOperations } from '../integrations/sqs.js';
import { stepFunctionsOperations } from '../integrations/stepfunctions.js';
import { PolicyEngine } from '../policies/engine.js';
import { WorkloadMatcher } from '../policies/workloads.js';
import { consume } from '../queue/consumer.js';
import { HandoffDoor, type Outcome } from '../queue/door.js';
import { SenderDirectory } from '../queue/senders.js';
import { startTestApi, type TestApi } from './support/api.js';
import { eventually } from './support/assertions.js';
import { startTestBroker, type TestBroker } from './support/broker.js';

/** What moto reports as every message's SenderId, whoever sent it (moto/sqs/models.py). */
const MOTO_SENDER_ID = 'AIDAIT2UOQQY3AUEKVGXU';
const PIPELINE_ROLE = 'arn:aws:iam::123456789012:role/jit-deploy-pipeline-sfn';
const HEARTBEAT_SECONDS = 4;

let moto: RunningService;
let broker: TestBroker;
let api: TestApi;
let sfn: SFNClient;
let sqs: SQSClient;
let iam: IAMClient;
let pipeline: string;
let rogue: string;
let strangers: string;
let tooMuch: string;
let deployJobs: string;
const stop = new AbortController();
const outcomes: { message: ReceivedMessage; outcome: Outcome }[] = [];
let door: HandoffDoor;
let consumers: Promise<void>[] = [];

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

before(async () => {
  moto = await startMoto({ host: '127.0.0.1', port: await freePort(), name: 'test-moto-sfn', log: () => {} });
  await enableStepFunctionsExecution(moto.url);
  const aws = { region: 'us-east-1', endpoint: moto.url, credentials };
  [sfn, sqs, iam] = [new SFNClient(aws), new SQSClient(aws), new IAMClient(aws)];

  broker = await startTestBroker({
    motoUrl: moto.url,
    overrides: { 'prod-deploy': { approvalTimeout: '15s' } },
    workloads: {
      // moto names every sender the same (MOTO_SENDER_ID); the execution's role still binds it.
      'deploy-pipeline': { awsRoles: [PIPELINE_ROLE], awsPrincipalIds: [MOTO_SENDER_ID] },
    },
  });
  await broker.startWorker();
  api = await startTestApi(broker);

  const queue = async (name: string) =>
    (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-${Date.now()}` }))).QueueUrl as string;
  const [requests, strangerRequests] = [await queue('jit-requests'), await queue('jit-strangers')];
  deployJobs = await queue('deploy-jobs');
  const role = async (name: string) => {
    await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: '{}' })).catch(() => {});
    return `arn:aws:iam::123456789012:role/${name}`;
  };
  await role('jit-deploy-pipeline-sfn');
  const machine = async (name: string, roleArn: string, queueUrl: string) =>
    (
      await sfn.send(
        new CreateStateMachineCommand({ name, roleArn, definition: exampleDefinition(queueUrl, deployJobs) }),
      )
    ).stateMachineArn as string;
  pipeline = await machine('jit-deploy-pipeline', PIPELINE_ROLE, requests);
  rogue = await machine('rogue-pipeline', await role('rogue-sfn'), requests);
  strangers = await machine('stranger-pipeline', PIPELINE_ROLE, strangerRequests);
  tooMuch = (
    await sfn.send(
      new CreateStateMachineCommand({
        name: 'admin-pipeline',
        roleArn: PIPELINE_ROLE,
        definition: exampleDefinition(requests, deployJobs, 'prod-admin'),
      }),
    )
  ).stateMachineArn as string;

  const clients = createAwsClients({ region: 'us-east-1', endpoint: moto.url });
  const log = { info() {}, warn() {} };
  const doorFor = (workloads: WorkloadMatcher) =>
    new HandoffDoor({
      service: broker.service,
      senders: new SenderDirectory(workloads, awsOperations(clients).roleUniqueId),
      sfn: stepFunctionsOperations(new SFNClient(aws)),
      watchSeconds: 1,
      log,
    });
  door = doorFor(broker.engine.workloads);
  const sqsOps = sqsOperations(new SQSClient(aws));
  consumers = [
    consume(
      {
        sqs: sqsOps,
        queueUrl: requests,
        door,
        log,
        onOutcome: (message, outcome) => outcomes.push({ message, outcome }),
      },
      stop.signal,
    ),
    // A door whose catalog maps no sender.
    consume(
      { sqs: sqsOps, queueUrl: strangerRequests, door: doorFor(new WorkloadMatcher([])), log },
      stop.signal,
    ),
  ];
});

after(async () => {
  stop.abort();
  await Promise.all(consumers);
  await api?.close();
  await broker?.close();
  await moto?.stop();
});

/** The shipped example, as CloudFormation would deploy it; shorter heartbeats and timeouts for a test. */
function exampleDefinition(requestsUrl: string, jobsUrl: string, role?: string): string {
  const substitutions: Record<string, string> = {
    BrokerRequestsQueueUrl: requestsUrl,
    DeployJobsQueueUrl: jobsUrl,
  };
  const text = readFileSync(join(repoRoot, 'infra/stepfunctions/deploy-pipeline.asl.json'), 'utf8').replace(
    /\$\{(\w+)\}/g,
    (_whole, name: string) => substitutions[name] ?? '',
  );
  const asl = JSON.parse(text);
  const request = asl.States.RequestDeployAccess;
  request.HeartbeatSeconds = HEARTBEAT_SECONDS;
  request.Parameters.MessageBody.heartbeatSeconds = HEARTBEAT_SECONDS;
  request.TimeoutSeconds = 120;
  if (role) request.Parameters.MessageBody.role = role;
  asl.States.Deploy.TimeoutSeconds = 120;
  return JSON.stringify(asl);
}

let runs = 0;
async function startPipeline(machine = pipeline): Promise<string> {
  const out = await sfn.send(
    new StartExecutionCommand({
      stateMachineArn: machine,
      name: `run-${++runs}-${Date.now()}`,
      input: JSON.stringify({
        service: 'shop',
        version: `1.${runs}.0`,
        ticket: `CHG-${runs}`,
        requestedBy: { sub: 'alice', email: 'alice@example.test' },
      }),
    }),
  );
  return out.executionArn as string;
}

const execution = (executionArn: string) => sfn.send(new DescribeExecutionCommand({ executionArn }));

async function finished(executionArn: string, timeoutMs = 60_000) {
  return eventually(
    `${executionArn} to finish`,
    async () => {
      const out = await execution(executionArn);
      return out.status === 'RUNNING' ? undefined : out;
    },
    timeoutMs,
  );
}

/** The grant the state machine's execution asked for, once the read model has it in this state. */
function grantOf(executionArn: string, status?: GrantView['status'], timeoutMs = 30_000): Promise<GrantView> {
  return eventually(
    `the grant of ${executionArn}${status ? ` ${status}` : ''}`,
    async () => {
      const page = await broker.store.grants.list(
        { requester: 'workload:deploy-pipeline', visibleTo: 'all' },
        100,
      );
      const item = page.items.find((g) => g.stepFunctions?.executionArn === executionArn);
      const view = item && (await broker.store.grants.get(item.id));
      return view && (!status || view.status === status) ? view : undefined;
    },
    timeoutMs,
  );
}

/** The Jit.* error a task failed with, from the execution's history. */
async function taskErrors(executionArn: string): Promise<string[]> {
  const { events = [] } = await sfn.send(new GetExecutionHistoryCommand({ executionArn }));
  return events.flatMap((e) => (e.taskFailedEventDetails?.error ? [e.taskFailedEventDetails.error] : []));
}

interface DeployJob {
  grantId: string;
  taskToken: string;
  roleArn: string;
}

/** The deploy runner takes the next job off its queue. */
async function takeDeployJob(): Promise<DeployJob> {
  const message = await eventually('a deploy job', async () => {
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: deployJobs, WaitTimeSeconds: 1 }));
    return out.Messages?.[0];
  });
  await sqs.send(new DeleteMessageCommand({ QueueUrl: deployJobs, ReceiptHandle: message.ReceiptHandle }));
  return JSON.parse(message.Body ?? '{}') as DeployJob;
}

/** The deploy runner: fetches the grant's credentials as itself, deploys, answers the job. */
async function runDeployJob(
  fail = false,
  job?: DeployJob,
): Promise<{ grantId: string; callerArn: string | undefined }> {
  job ??= await takeDeployJob();
  const creds = await api.call('POST', `/v1/requests/${job.grantId}/credentials`, { user: 'deploy-runner' });
  assert.equal(creds.status, 200, JSON.stringify(creds.body));
  const sts = new STSClient({
    region: 'us-east-1',
    endpoint: moto.url,
    credentials: {
      accessKeyId: creds.body.AccessKeyId,
      secretAccessKey: creds.body.SecretAccessKey,
      sessionToken: creds.body.SessionToken,
    },
  });
  const who = await sts.send(new GetCallerIdentityCommand({}));
  sts.destroy();
  if (fail)
    await sfn.send(
      new SendTaskFailureCommand({ taskToken: job.taskToken, error: 'Deploy.Broken', cause: 'tests failed' }),
    );
  else await sfn.send(new SendTaskSuccessCommand({ taskToken: job.taskToken, output: '{"deployed":true}' }));
  return { grantId: job.grantId, callerArn: who.Arn };
}

describe('the example deploy pipeline on moto', () => {
  test('approved: heartbeats while pending, deploys with its own credentials, gives the grant back', async () => {
    const run = await startPipeline();
    const pending = await grantOf(run, 'pending');
    assert.equal(pending.requester.sub, 'workload:deploy-pipeline');
    assert.deepEqual(pending.onBehalfOf, { sub: 'alice', email: 'alice@example.test' });
    assert.equal(pending.stepFunctions?.stateName, 'RequestDeployAccess');
    // Longer than the task's HeartbeatSeconds: only the broker's heartbeats keep it waiting.
    await new Promise((r) => setTimeout(r, (HEARTBEAT_SECONDS + 2) * 1000));
    assert.equal((await execution(run)).status, 'RUNNING', 'heartbeats kept the task alive');

    // SQS delivering the message again starts nothing new.
    const delivered = outcomes.find((o) => o.outcome.done && o.outcome.grantId === pending.id);
    assert.ok(delivered);
    const again = await door.handle({ ...delivered.message, receiveCount: 2 });
    assert.deepEqual(again, { done: true, result: 'redelivered', grantId: pending.id });

    const alice = await api.call('POST', `/v1/requests/${pending.id}/approve`, { user: 'alice', body: {} });
    assert.notEqual(alice.status, 200, 'the person the pipeline acts for does not approve it');
    const approved = await api.call('POST', `/v1/requests/${pending.id}/approve`, { user: 'bob', body: {} });
    assert.equal(approved.body.status, 'active', JSON.stringify(approved.body));

    const deploy = await runDeployJob();
    assert.equal(deploy.grantId, pending.id);
    assert.match(deploy.callerArn ?? '', /assumed-role\/jit-t\w+-prod-deploy\/jit-/);

    const done = await finished(run);
    assert.equal(done.status, 'SUCCEEDED');
    const output = JSON.parse(done.output ?? '{}');
    assert.deepEqual(Object.keys(output.grant).sort(), ['expiresAt', 'grantId', 'roleArn', 'status']);
    assert.equal(output.grant.grantId, pending.id);
    assert.doesNotMatch(done.output ?? '', /AccessKeyId|SecretAccessKey|SessionToken/);

    const ended = await grantOf(run, 'revoked');
    assert.match(ended.endReason ?? '', /deploy finished/);
    assert.equal(ended.endedBy, 'workload:deploy-pipeline');
  });

  test('denied: the state machine catches Jit.Denied', async () => {
    const run = await startPipeline();
    const pending = await grantOf(run, 'pending');
    await api.call('POST', `/v1/requests/${pending.id}/deny`, { user: 'bob', body: { reason: 'not today' } });
    const done = await finished(run);
    assert.equal(done.status, 'FAILED');
    assert.equal(done.error, 'Deploy.AccessDenied');
    assert.deepEqual(await taskErrors(run), ['Jit.Denied']);
  });

  test('nobody approves in time: the state machine catches Jit.TimedOut', async () => {
    const run = await startPipeline();
    await grantOf(run, 'timed_out', 40_000);
    const done = await finished(run);
    assert.equal(done.error, 'Deploy.AccessTimedOut');
    assert.deepEqual(await taskErrors(run), ['Jit.TimedOut']);
  });

  test('the deploy step fails: the grant is given back all the same', async () => {
    const run = await startPipeline();
    const pending = await grantOf(run, 'pending');
    await api.call('POST', `/v1/requests/${pending.id}/approve`, { user: 'carol', body: {} });
    await runDeployJob(true);
    const done = await finished(run);
    assert.equal(done.error, 'Deploy.Failed');
    const ended = await grantOf(run, 'revoked');
    assert.match(ended.endReason ?? '', /deploy failed/);
  });

  test('stopped while pending: the grant is cancelled, and says why', async () => {
    const run = await startPipeline();
    await grantOf(run, 'pending');
    await sfn.send(new StopExecutionCommand({ executionArn: run, cause: 'operator' }));
    const ended = await grantOf(run, 'cancelled');
    // AWS says ABORTED at once. moto applies the stop when the waiting task next hears from the
    // broker (a heartbeat) and ends the execution FAILED (States.Timeout); the heartbeat itself may
    // be the first to learn (InvalidToken). Either way the grant ends, saying why.
    assert.match(ended.endReason ?? '', /stopped waiting: (InvalidToken|.* is (ABORTED|FAILED))/);
    assert.equal(ended.endedBy, 'system');
  });

  test('stopped while active: the grant is revoked, and says why', async () => {
    const run = await startPipeline();
    const pending = await grantOf(run, 'pending');
    await api.call('POST', `/v1/requests/${pending.id}/approve`, { user: 'bob', body: {} });
    const job = await takeDeployJob(); // the execution is in its Deploy step
    await sfn.send(new StopExecutionCommand({ executionArn: run, cause: 'operator' }));
    // moto applies a stop to a task waiting for its token only when the task hears back (AWS stops
    // at once): the runner finishing its job lets moto abort, without running the Release step.
    await runDeployJob(false, job);
    assert.equal((await finished(run)).status, 'ABORTED');
    const ended = await grantOf(run, 'revoked');
    assert.match(ended.endReason ?? '', /stopped waiting: .* is ABORTED/);
    assert.equal(ended.endedBy, 'system');
  });
});

describe('who may hand over', () => {
  test('a role policy does not give the workload is refused at the door: Jit.PolicyDenied', async () => {
    const run = await startPipeline(tooMuch);
    const done = await finished(run);
    assert.equal(done.error, 'Deploy.AccessDenied');
    assert.deepEqual(await taskErrors(run), ['Jit.PolicyDenied']);
  });

  test('an execution that runs as a role the workload does not have is refused on its task token', async () => {
    const run = await startPipeline(rogue);
    const done = await finished(run);
    assert.equal(done.error, 'Deploy.AccessFailed');
    assert.deepEqual(await taskErrors(run), ['Jit.Unauthorized']);
  });

  test('a sender the catalog does not map is refused on its task token; nothing starts', async () => {
    const run = await startPipeline(strangers);
    const done = await finished(run);
    assert.equal(done.error, 'Deploy.AccessFailed');
    assert.deepEqual(await taskErrors(run), ['Jit.Unauthorized']);
    const page = await broker.store.grants.list(
      { requester: 'workload:deploy-pipeline', visibleTo: 'all' },
      100,
    );
    assert.equal(page.items.filter((g) => g.stepFunctions?.executionArn === run).length, 0);
  });
});

test('the CloudFormation template fits the ASL and the shipped catalog', () => {
  const dir = join(repoRoot, 'infra/stepfunctions');
  const asl = readFileSync(join(dir, 'deploy-pipeline.asl.json'), 'utf8');
  const template = parse(readFileSync(join(dir, 'deploy-pipeline.cfn.yaml'), 'utf8'));
  const machine = template.Resources.DeployPipeline.Properties;
  assert.equal(machine.DefinitionS3Location, './deploy-pipeline.asl.json');
  const placeholders = [...new Set([...asl.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]))].sort();
  assert.deepEqual(placeholders, Object.keys(machine.DefinitionSubstitutions).sort());
  // The role the template creates is the one the shipped catalog maps to deploy-pipeline.
  const roleName = template.Resources.PipelineRole.Properties.RoleName;
  const workload = PolicyEngine.load().workloads.byName('deploy-pipeline');
  assert.deepEqual(workload?.awsRoles, [`arn:aws:iam::123456789012:role/${roleName}`]);
  // Only the pipeline's role may send requests; only the queue door receives them.
  const statements = template.Resources.BrokerRequestsPolicy.Properties.PolicyDocument.Statement as {
    Sid: string;
    Effect: string;
    Action: string | string[];
    Condition?: Record<string, Record<string, unknown>>;
  }[];
  const denySend = statements.find((s) => s.Sid === 'NobodyElseSends');
  assert.equal(denySend?.Effect, 'Deny');
  assert.deepEqual(denySend?.Condition?.ArnNotEquals?.['aws:PrincipalArn'], [
    { 'Fn::GetAtt': ['PipelineRole', 'Arn'] },
  ]);
  assert.equal(statements.find((s) => s.Sid === 'OnlyTheQueueDoorReceives')?.Effect, 'Deny');
});
