// The synthesized CDK templates deployed into moto's CloudFormation, then used for real: a member
// account of an organization gets the target roles through a service-managed StackSet, the broker
// stack's role is assumed, and with those credentials the real broker code runs a grant (request ->
// credentials -> revoke -> the ledger's deny policy, which the worker writes in the member account
// through that account's ledger-writer role: JIT_LEDGER_WRITER_ROLE).
//
// moto (infra/aws/requirements.txt) falls short of AWS here; each gap is asserted on the document:
// - AssumeRoleWithWebIdentity fails while IAM enforcement is on (moto wants a signature on an
//   unsigned call), so the broker role is assumed with AssumeRole by a test user (trust kind `aws`).
// - CloudFormation has no AWS::CloudFormation::StackSet resource (the JitOrg stack cannot be
//   created); the StackSet is made with the StackSet API from the JitOrg template's own properties.
// - AWS::IAM::Role's ManagedPolicyArns is ignored, so target roles have no permissions in moto.
// - Trust policies are not evaluated for cross-account AssumeRole; conditions other than
//   StringEquals on sts:ExternalId (Null, ForAllValues, iam:PermissionsBoundary, aws:ResourceTag)
//   are treated as met; permissions boundaries are stored but not evaluated.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CloudFormationClient,
  CreateStackCommand,
  CreateStackInstancesCommand,
  CreateStackSetCommand,
  DescribeStacksCommand,
  ListStackInstancesCommand,
  type Parameter,
} from '@aws-sdk/client-cloudformation';
import {
  AttachRolePolicyCommand,
  CreateAccessKeyCommand,
  CreatePolicyVersionCommand,
  CreateUserCommand,
  DeleteRolePermissionsBoundaryCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  PutRolePermissionsBoundaryCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import {
  CreateAccountCommand,
  CreateOrganizationalUnitCommand,
  CreateOrganizationCommand,
  DescribeOrganizationCommand,
  ListRootsCommand,
  MoveAccountCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { ulid } from 'ulid';
import { parse, stringify } from 'yaml';
import { createActivities } from '../activities/index.js';
import { GrantService } from '../api/grant-service.js';
import type { AssumeRoleInput } from '../common/activities.js';
import type { GrantView } from '../common/grant.js';
import { buildApp, STACK_NAMES } from '../infra/cdk/app.js';
import { catalogProblems } from '../infra/cdk/catalog-check.js';
import { type DeployConfig, deployConfigSchema } from '../infra/cdk/config.js';
import {
  brokerRoleArn,
  LEDGER_WRITER_ROLE_NAME,
  REVOCATION_POLICY_NAME,
  targetRoleArn,
} from '../infra/cdk/names.js';
import { AssertionSigner, parseSigningKey } from '../platform/assertion-signer.js';
import { GrantClient } from '../platform/grant-client.js';
import { loadCatalog } from '../policies/catalog.js';
import { POLICIES_DIR, PolicyEngine } from '../policies/engine.js';
import { type AuditStore, openAuditStore } from '../store/index.js';
import { createBrokerWorker } from '../worker/worker.js';
import { eventually } from './support/assertions.js';
import { principal, sharedWorkflowBundle } from './support/broker.js';
import type { PolicyStatementJson, TemplateJson } from './support/deploy-cdk.js';
import {
  temporalClient,
  testDataConverter,
  testSigningKey,
  testStack,
  testVerifyKeys,
  uniqueTaskQueue,
  workerConnection,
} from './support/stack.js';

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

const stack = testStack();
const BROKER_ACCOUNT = '123456789012'; // moto's default account, where the admin lives
const suffix = randomBytes(3).toString('hex');
const aws = (credentials: Credentials) => ({ region: stack.region, endpoint: stack.motoUrl, credentials });
const admin = aws(stack.admin);

async function assumeRole(sts: STSClient, RoleArn: string, RoleSessionName: string): Promise<Credentials> {
  const { Credentials: c } = await sts.send(new AssumeRoleCommand({ RoleArn, RoleSessionName }));
  assert.ok(c?.AccessKeyId && c.SecretAccessKey && c.SessionToken, `no credentials for ${RoleArn}`);
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
}

async function refused(what: string, call: () => Promise<unknown>): Promise<void> {
  await assert.rejects(call, (err: Error) => {
    assert.match(err.name, /AccessDenied/, `${what}: ${err.name} ${err.message}`);
    return true;
  });
}

/** The member account, OU and config; the deployed stacks; clients as the broker and as the writer. */
let memberAccount: string;
let config: DeployConfig;
let synthesized: { broker: TemplateJson; org: TemplateJson };
let brokerCredentials: Credentials;
let brokerSts: STSClient;
let brokerIamClient: IAMClient;
let writerIam: IAMClient;
const clients: { destroy(): void }[] = [];

async function createMemberAccount(): Promise<{ accountId: string; ouId: string }> {
  const org = new OrganizationsClient(admin);
  clients.push(org);
  await org
    .send(new DescribeOrganizationCommand({}))
    .catch(() => org.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' })));
  const rootId = (await org.send(new ListRootsCommand({}))).Roots?.[0]?.Id;
  assert.ok(rootId);
  const ou = await org.send(
    new CreateOrganizationalUnitCommand({ ParentId: rootId, Name: `jit-targets-${suffix}` }),
  );
  const created = await org.send(
    new CreateAccountCommand({ AccountName: `prod-${suffix}`, Email: `prod-${suffix}@example.test` }),
  );
  const accountId = created.CreateAccountStatus?.AccountId;
  const ouId = ou.OrganizationalUnit?.Id;
  assert.ok(accountId && ouId);
  await org.send(
    new MoveAccountCommand({ AccountId: accountId, SourceParentId: rootId, DestinationParentId: ouId }),
  );
  return { accountId, ouId };
}

/** A user standing in for the pod's web identity: it may assume the broker role and nothing else. */
async function createPodStandIn(iam: IAMClient): Promise<{ arn: string; credentials: Credentials }> {
  const UserName = `jit-pod-${suffix}`;
  const { User } = await iam.send(new CreateUserCommand({ UserName }));
  await iam.send(
    new PutUserPolicyCommand({
      UserName,
      PolicyName: 'assume-broker',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: brokerRoleArn(BROKER_ACCOUNT) }],
      }),
    }),
  );
  const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName }));
  assert.ok(User?.Arn && AccessKey?.AccessKeyId && AccessKey.SecretAccessKey);
  return {
    arn: User.Arn,
    credentials: { accessKeyId: AccessKey.AccessKeyId, secretAccessKey: AccessKey.SecretAccessKey },
  };
}

before(async () => {
  const iam = new IAMClient(admin);
  const cfn = new CloudFormationClient(admin);
  clients.push(iam, cfn);
  const { accountId, ouId } = await createMemberAccount();
  memberAccount = accountId;
  const pod = await createPodStandIn(iam);
  config = deployConfigSchema.parse({
    region: stack.region,
    brokerAccount: BROKER_ACCOUNT,
    orgAccount: BROKER_ACCOUNT,
    broker: { trust: { kind: 'aws', principalArns: [pod.arn] }, secrets: false },
    targets: {
      stackSetName: `jit-target-roles-${suffix}`,
      organizationalUnitIds: [ouId],
      accounts: [memberAccount],
      roles: [
        {
          name: 'jit-prod-readonly',
          maxSessionSeconds: 3600,
          managedPolicies: ['ReadOnlyAccess'],
          boundary: 'read-only',
        },
        {
          name: 'jit-prod-admin',
          maxSessionSeconds: 14400,
          managedPolicies: ['AdministratorAccess'],
          boundary: 'guardrail',
        },
        {
          name: 'jit-breakglass-admin',
          maxSessionSeconds: 3600,
          managedPolicies: ['AdministratorAccess'],
          boundary: 'guardrail',
        },
        {
          name: 'jit-prod-deploy',
          maxSessionSeconds: 3600,
          managedPolicies: ['PowerUserAccess'],
          boundary: 'guardrail',
        },
      ],
    },
  });

  // Synthesized with cdk-nag as a synth-time validation, exactly as `npm run cdk:synth` does.
  const outdir = mkdtempSync(join(tmpdir(), 'jit-cdk-moto-'));
  try {
    const assembly = buildApp(config, { outdir }).app.synth();
    synthesized = {
      broker: assembly.getStackByName(STACK_NAMES.broker).template,
      org: assembly.getStackByName(STACK_NAMES.org).template,
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }

  await cfn.send(
    new CreateStackCommand({
      StackName: `jit-broker-${suffix}`,
      TemplateBody: JSON.stringify(synthesized.broker),
      Capabilities: ['CAPABILITY_NAMED_IAM'],
    }),
  );
  const stackSet = Object.values(synthesized.org.Resources as TemplateJson).find(
    (r) => r.Type === 'AWS::CloudFormation::StackSet',
  )?.Properties;
  assert.ok(stackSet);
  await cfn.send(
    new CreateStackSetCommand({
      StackSetName: stackSet.StackSetName,
      TemplateBody: stackSet.TemplateBody,
      Parameters: stackSet.Parameters as Parameter[],
      PermissionModel: stackSet.PermissionModel,
      AutoDeployment: stackSet.AutoDeployment,
      Capabilities: stackSet.Capabilities,
    }),
  );
  const [group] = stackSet.StackInstancesGroup;
  await cfn.send(
    new CreateStackInstancesCommand({
      StackSetName: stackSet.StackSetName,
      DeploymentTargets: group.DeploymentTargets,
      Regions: group.Regions,
    }),
  );

  const podSts = new STSClient(aws(pod.credentials));
  clients.push(podSts);
  brokerCredentials = await assumeRole(podSts, brokerRoleArn(BROKER_ACCOUNT), 'jit-broker-pod');
  brokerSts = new STSClient(aws(brokerCredentials));
  brokerIamClient = new IAMClient(aws(brokerCredentials));
  const writerCredentials = await assumeRole(
    brokerSts,
    `arn:aws:iam::${memberAccount}:role/jit-broker/${LEDGER_WRITER_ROLE_NAME}`,
    'jit-ledger-test',
  );
  writerIam = new IAMClient(aws(writerCredentials));
  clients.push(brokerSts, brokerIamClient, writerIam);
});

after(() => {
  for (const client of clients) client.destroy();
});

const roleInMember = async (name: string) => {
  const { Role } = await writerIam.send(new GetRoleCommand({ RoleName: name }));
  assert.ok(Role);
  return Role;
};
const trustOf = (role: { AssumeRolePolicyDocument?: string }) =>
  JSON.parse(decodeURIComponent(role.AssumeRolePolicyDocument ?? '{}')) as {
    Statement: PolicyStatementJson[];
  };

describe('the templates in moto CloudFormation', () => {
  test('the broker stack creates the broker role that the target roles trust', async () => {
    const cfn = new CloudFormationClient(admin);
    clients.push(cfn);
    const { Stacks } = await cfn.send(new DescribeStacksCommand({ StackName: `jit-broker-${suffix}` }));
    assert.equal(Stacks?.[0]?.StackStatus, 'CREATE_COMPLETE');
    const output = Stacks?.[0]?.Outputs?.find((o) => o.OutputKey === 'BrokerRoleArn')?.OutputValue;
    assert.equal(output, brokerRoleArn(BROKER_ACCOUNT));
    const caller = await brokerSts.send(new GetCallerIdentityCommand({}));
    assert.equal(caller.Arn, `arn:aws:sts::${BROKER_ACCOUNT}:assumed-role/jit-broker/jit-broker-pod`);
  });

  test('the StackSet puts the bounded target roles and the ledger writer into the OU member account', async () => {
    const cfn = new CloudFormationClient(admin);
    clients.push(cfn);
    const { Summaries = [] } = await cfn.send(
      new ListStackInstancesCommand({ StackSetName: config.targets.stackSetName }),
    );
    assert.deepEqual(
      Summaries.map((s) => [s.Account, s.Region]),
      [[memberAccount, stack.region]],
    );
    for (const role of config.targets.roles) {
      const deployed = await roleInMember(role.name);
      assert.equal(deployed.Arn, targetRoleArn(memberAccount, role.name));
      assert.equal(deployed.MaxSessionDuration, role.maxSessionSeconds);
      assert.ok(deployed.PermissionsBoundary?.PermissionsBoundaryArn, `${role.name} has no boundary in moto`);
      const trust = trustOf(deployed);
      assert.ok(
        trust.Statement.every(
          (s) => JSON.stringify(s.Principal) === JSON.stringify({ AWS: brokerRoleArn(BROKER_ACCOUNT) }),
        ),
      );
    }
    const adminRole = await roleInMember('jit-prod-admin');
    assert.equal(
      adminRole.PermissionsBoundary?.PermissionsBoundaryArn,
      `arn:aws:iam::${memberAccount}:policy/jit-broker/jit-guardrail-boundary`,
    );
  });
});

describe('nobody holding the broker credentials can widen a role', () => {
  const widen = (iam: IAMClient, RoleName: string) => ({
    inlineAllow: () =>
      iam.send(
        new PutRolePolicyCommand({
          RoleName,
          PolicyName: 'widen',
          PolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
          }),
        }),
      ),
    ledger: () =>
      iam.send(
        new PutRolePolicyCommand({
          RoleName,
          PolicyName: REVOCATION_POLICY_NAME,
          PolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
          }),
        }),
      ),
    boundary: () =>
      iam.send(
        new PutRolePermissionsBoundaryCommand({
          RoleName,
          PermissionsBoundary: 'arn:aws:iam::aws:policy/AdministratorAccess',
        }),
      ),
    dropBoundary: () => iam.send(new DeleteRolePermissionsBoundaryCommand({ RoleName })),
    attach: () =>
      iam.send(
        new AttachRolePolicyCommand({ RoleName, PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }),
      ),
    trust: () =>
      iam.send(
        new UpdateAssumeRolePolicyCommand({
          RoleName,
          PolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' }],
          }),
        }),
      ),
  });

  test("the broker role's own credentials hold no IAM write at all", async () => {
    // Its own account's roles: the seeded sample role and the broker role itself.
    for (const RoleName of ['jit-prod-admin', 'jit-broker']) {
      const w = widen(brokerIamClient, RoleName);
      await refused(`PutRolePolicy another name on ${RoleName}`, w.inlineAllow);
      await refused(`PutRolePolicy ${REVOCATION_POLICY_NAME} on ${RoleName}`, w.ledger);
      await refused(`PutRolePermissionsBoundary on ${RoleName}`, w.boundary);
      await refused(`AttachRolePolicy on ${RoleName}`, w.attach);
    }
  });

  test('the ledger writer may write and delete the ledger policy of a /jit/ role', async () => {
    const document = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: { StringEquals: { 'aws:userid': ['AROAEXAMPLE:s'] } },
        },
      ],
    });
    await writerIam.send(
      new PutRolePolicyCommand({
        RoleName: 'jit-prod-admin',
        PolicyName: REVOCATION_POLICY_NAME,
        PolicyDocument: document,
      }),
    );
    const read = await writerIam.send(
      new GetRolePolicyCommand({ RoleName: 'jit-prod-admin', PolicyName: REVOCATION_POLICY_NAME }),
    );
    assert.deepEqual(JSON.parse(decodeURIComponent(read.PolicyDocument ?? '')), JSON.parse(document));
    await writerIam.send(
      new DeleteRolePolicyCommand({ RoleName: 'jit-prod-admin', PolicyName: REVOCATION_POLICY_NAME }),
    );
  });

  test('the ledger writer is refused every widening action, and any role outside /jit/', async () => {
    const w = widen(writerIam, 'jit-prod-readonly');
    await refused('PutRolePermissionsBoundary', w.boundary);
    await refused('DeleteRolePermissionsBoundary', w.dropBoundary);
    await refused('AttachRolePolicy', w.attach);
    await refused('UpdateAssumeRolePolicy', w.trust);
    await refused('DetachRolePolicy', () =>
      writerIam.send(
        new DetachRolePolicyCommand({
          RoleName: 'jit-prod-readonly',
          PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess',
        }),
      ),
    );
    await refused('CreatePolicyVersion of the guardrail boundary', () =>
      writerIam.send(
        new CreatePolicyVersionCommand({
          PolicyArn: `arn:aws:iam::${memberAccount}:policy/jit-broker/jit-guardrail-boundary`,
          PolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
          }),
          SetAsDefault: true,
        }),
      ),
    );
    // Its own role is under /jit-broker/, outside the path it may edit.
    await refused(
      'PutRolePolicy on the ledger writer itself',
      widen(writerIam, LEDGER_WRITER_ROLE_NAME).inlineAllow,
    );
    const role = await roleInMember('jit-prod-readonly');
    assert.equal(role.PermissionsBoundary?.PermissionsBoundaryArn, 'arn:aws:iam::aws:policy/ReadOnlyAccess');
  });

  test('IAM cannot refuse another inline policy name; the boundary stays, so the Allow cannot exceed it', async () => {
    // No IAM condition key names an inline policy: the writer can put any name on a bounded /jit/
    // role. Effective permissions are identity ∩ boundary, so the ceiling is the boundary it cannot touch.
    await widen(writerIam, 'jit-prod-readonly').inlineAllow();
    const role = await roleInMember('jit-prod-readonly');
    assert.equal(role.PermissionsBoundary?.PermissionsBoundaryArn, 'arn:aws:iam::aws:policy/ReadOnlyAccess');
    await writerIam.send(new DeleteRolePolicyCommand({ RoleName: 'jit-prod-readonly', PolicyName: 'widen' }));
  });
});

/** The real broker (API service, worker, ledger) running as the CloudFormation-created broker role. */
async function startDeployedBroker(): Promise<{
  service: GrantService;
  store: AuditStore;
  assumeRoleCalls: AssumeRoleInput[];
  close(): Promise<void>;
}> {
  const policyDir = mkdtempSync(join(tmpdir(), 'jit-policies-'));
  const scratch = mkdtempSync(join(tmpdir(), 'jit-deploy-'));
  cpSync(POLICIES_DIR, policyDir, { recursive: true, filter: (src) => !src.endsWith('.ts') });
  const catalogFile = join(policyDir, 'catalog.yaml');
  const catalog = parse(readFileSync(catalogFile, 'utf8')) as { roles: { arn: string; account: string }[] };
  for (const role of catalog.roles) {
    role.arn = targetRoleArn(memberAccount, role.arn.split('/').pop() as string);
    role.account = memberAccount;
  }
  writeFileSync(catalogFile, stringify(catalog));
  // The catalog is in step with the app before the broker ever reads it.
  assert.deepEqual(catalogProblems(loadCatalog(catalogFile).roles, config), []);

  const engine = PolicyEngine.load(policyDir);
  const taskQueue = uniqueTaskQueue('deploy');
  const auditDatabaseUrl = `sqlite:${join(scratch, 'audit.sqlite')}`;
  const { client, close: closeClient } = await temporalClient();
  // The default credential chain, as in production, reads the broker role's session from env.
  process.env.AWS_ACCESS_KEY_ID = brokerCredentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = brokerCredentials.secretAccessKey;
  process.env.AWS_SESSION_TOKEN = brokerCredentials.sessionToken;
  const { activities, close: closeActivities } = await createActivities({
    config: {
      AWS_REGION: stack.region,
      AWS_ENDPOINT_URL: stack.motoUrl,
      DATABASE_URL: auditDatabaseUrl,
      TEMPORAL_TASK_QUEUE: taskQueue,
      // As the Helm chart sets it: IAM in each target account goes through its ledger writer.
      JIT_LEDGER_WRITER_ROLE: `jit-broker/${LEDGER_WRITER_ROLE_NAME}`,
    },
    engine,
    client,
  });
  const assumeRoleCalls: AssumeRoleInput[] = [];
  const connection: NativeConnection = await workerConnection();
  const worker: Worker = await createBrokerWorker({
    connection,
    namespace: 'default',
    taskQueue,
    activities: {
      ...activities,
      async assumeRole(input: AssumeRoleInput) {
        assumeRoleCalls.push(input);
        return activities.assumeRole(input);
      },
    },
    dataConverter: testDataConverter(),
    workflowBundle: await sharedWorkflowBundle(),
    assertionVerifyKeys: testVerifyKeys,
  });
  const running = worker.run();
  const grants = new GrantClient({
    client,
    taskQueue,
    signer: new AssertionSigner(parseSigningKey(testSigningKey), 'api'),
  });
  await eventually('the worker to poll', async () => ((await grants.workerPolls()) ? true : undefined));
  const store = await openAuditStore(auditDatabaseUrl);
  const service = new GrantService({
    grants,
    store,
    engine,
    console: {
      federationEndpoint: 'http://127.0.0.1:9/federation',
      destination: 'https://console.aws.amazon.com/',
    },
  });
  return {
    service,
    store,
    assumeRoleCalls,
    async close() {
      worker.shutdown();
      await running;
      await closeActivities();
      await connection.close();
      await closeClient();
      await store.close();
      rmSync(policyDir, { recursive: true, force: true });
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}

/** The trust policy's conditions, checked by hand against what the broker sent (moto does not). */
function trustAdmits(trust: { Statement: PolicyStatementJson[] }, call: AssumeRoleInput): string[] {
  const problems: string[] = [];
  for (const statement of trust.Statement) {
    for (const [operator, keys] of Object.entries(statement.Condition ?? {})) {
      for (const [key, expected] of Object.entries(keys)) {
        const tag = key.startsWith('aws:RequestTag/')
          ? call.tags[key.slice('aws:RequestTag/'.length)]
          : undefined;
        const value = key === 'sts:SourceIdentity' ? call.sourceIdentity : tag;
        if (operator === 'Null' && expected === 'false' && !key.startsWith('aws:TagKeys') && !value) {
          problems.push(`${statement.Sid}: ${key} is missing`);
        }
        if (operator === 'ForAllValues:StringEquals' && key === 'aws:TagKeys') {
          const extra = Object.keys(call.tags).filter((k) => !(expected as string[]).includes(k));
          if (extra.length > 0) problems.push(`${statement.Sid}: tag keys ${extra.join()} not allowed`);
        }
      }
    }
  }
  return problems;
}

describe('a grant through the real broker code, on the CloudFormation-created roles', () => {
  let broker: Awaited<ReturnType<typeof startDeployedBroker>>;
  before(async () => {
    broker = await startDeployedBroker();
  });
  after(async () => {
    await broker?.close();
  });

  test('request -> credentials (SourceIdentity, JIT tags) -> revoke -> the worker writes the deny entry in the second account through its ledger writer', async () => {
    const alice = principal('alice');
    const { view: started } = await broker.service.start(
      alice,
      { role: 'prod-readonly', durationSeconds: 1800, reason: 'deploy test', ticket: 'INC-7' },
      { idempotencyKey: ulid() },
    );
    const view = async (): Promise<GrantView> => {
      const found = await broker.store.grants.get(started.id);
      assert.ok(found, `${started.id} is not in the read model`);
      return found;
    };
    await eventually('the grant to be active', async () =>
      (await view()).status === 'active' ? true : undefined,
    );

    const issued = await broker.service.credentials(alice, started.id);
    const roleArn = targetRoleArn(memberAccount, 'jit-prod-readonly');
    const session = new STSClient(
      aws({
        accessKeyId: issued.AccessKeyId,
        secretAccessKey: issued.SecretAccessKey,
        sessionToken: issued.SessionToken,
      }),
    );
    clients.push(session);
    const me = await session.send(new GetCallerIdentityCommand({}));
    const [sessionRecord] = (await view()).sessions;
    assert.ok(sessionRecord);
    assert.equal(me.Account, memberAccount);
    assert.equal(
      me.Arn,
      `arn:aws:sts::${memberAccount}:assumed-role/jit-prod-readonly/${sessionRecord.sessionName}`,
    );

    const [call] = broker.assumeRoleCalls;
    assert.ok(call);
    assert.equal(call.roleArn, roleArn);
    assert.equal(call.sourceIdentity, alice.email);
    assert.deepEqual(Object.keys(call.tags).sort(), ['jit-grant', 'jit-requester', 'jit-ticket']);
    const role = await roleInMember('jit-prod-readonly');
    assert.deepEqual(trustAdmits(trustOf(role), call), []);
    // The same check refuses a call without SourceIdentity or with a foreign tag.
    assert.equal(trustAdmits(trustOf(role), { ...call, sourceIdentity: '' }).length, 1);
    assert.equal(trustAdmits(trustOf(role), { ...call, tags: { ...call.tags, team: 'x' } }).length, 1);

    const revoked = await broker.service.revoke(alice, started.id, 'done');
    assert.equal(revoked.status, 'revoked');

    // The broker's own credentials hold no IAM permission (above), so only the worker's ledger
    // writer path can have written this, in the member account.
    const expected = `${role.RoleId}:${sessionRecord.sessionName}`;
    const ledger = await eventually(
      'the ledger deny policy on the CloudFormation-created role',
      async () => {
        const { PolicyDocument } = await writerIam
          .send(
            new GetRolePolicyCommand({ RoleName: 'jit-prod-readonly', PolicyName: REVOCATION_POLICY_NAME }),
          )
          .catch(() => ({ PolicyDocument: undefined }));
        if (!PolicyDocument) return undefined;
        const document = JSON.parse(decodeURIComponent(PolicyDocument));
        return JSON.stringify(document).includes(expected) ? document : undefined;
      },
      20_000,
    );
    assert.deepEqual(ledger.Statement, [
      {
        Sid: 'JitRevokedSessions',
        Effect: 'Deny',
        Action: '*',
        Resource: '*',
        Condition: { StringEquals: { 'aws:userid': [expected] } },
      },
    ]);
  });
});
