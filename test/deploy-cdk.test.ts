// The CDK app (infra/cdk) as synthesized: what each IAM statement allows, that cdk-nag's AwsSolutions
// pack finds nothing unacknowledged, and that the catalog check refuses roles the app does not create.
// Deploying the templates into moto is test/deploy-cdk-moto.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { buildApp, targetsTemplate } from '../infra/cdk/app.js';
import { catalogProblems } from '../infra/cdk/catalog-check.js';
import { type DeployConfig, loadDeployConfig, parseDeployConfig } from '../infra/cdk/config.js';
import { REVOCATION_POLICY_NAME } from '../infra/cdk/names.js';
import { parseCatalog } from '../policies/catalog.js';
import {
  nagErrors,
  type PolicyStatementJson,
  statementsOf,
  type TemplateJson,
} from './support/deploy-cdk.js';

const example = loadDeployConfig();
const withConfig = (patch: (c: DeployConfig) => void): DeployConfig => {
  const copy = structuredClone(example);
  patch(copy);
  return copy;
};
const templates = (config: DeployConfig) => {
  const built = buildApp(config);
  return {
    built,
    broker: Template.fromStack(built.broker),
    targets: Template.fromStack(built.targets),
    org: Template.fromStack(built.org),
  };
};

const { built, broker, targets, org } = templates(example);
const allTemplates = [broker, targets, org];
const resourcesOf = (t: Template, type: string) =>
  Object.values(t.findResources(type)) as { Properties: TemplateJson }[];
const roleNamed = (t: Template, name: string) => {
  const role = resourcesOf(t, 'AWS::IAM::Role').find((r) => r.Properties.RoleName === name);
  assert.ok(role, `no role ${name}`);
  return role.Properties;
};

describe('cdk-nag (AwsSolutions)', () => {
  test('no unacknowledged error in any stack of the example app, with secrets and a database', () => {
    assert.deepEqual(nagErrors(built.nag, built.app), []);
    const withDb = buildApp(
      withConfig((c) => {
        c.broker.database = {
          vpcId: 'vpc-0123456789abcdef0',
          subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
          availabilityZones: ['us-east-1a', 'us-east-1b'],
          clientSecurityGroupId: 'sg-0123456789abcdef0',
        };
      }),
      { validate: false },
    );
    assert.deepEqual(nagErrors(withDb.nag, withDb.app), []);
  });

  test('an unjustified wildcard is reported, and synth refuses it', () => {
    const { app, broker, nag } = buildApp(example, { validate: false });
    new iam.Role(broker, 'Careless', {
      assumedBy: new iam.AccountRootPrincipal(),
      inlinePolicies: {
        all: new iam.PolicyDocument({
          statements: [new iam.PolicyStatement({ actions: ['iam:*'], resources: ['*'] })],
        }),
      },
    });
    const errors = nagErrors(nag, app);
    assert.ok(
      errors.some((e) => e.includes('AwsSolutions-IAM5') && e.includes('JitBroker/Careless')),
      errors.join('\n'),
    );
    const validated = buildApp(example);
    new iam.Role(validated.broker, 'Careless', { assumedBy: new iam.AnyPrincipal() }).addToPolicy(
      new iam.PolicyStatement({ actions: ['*'], resources: ['*'] }),
    );
    assert.throws(() => validated.app.synth(), /JitBroker\/Careless[\s\S]*AwsSolutions-IAM5\[Action::\*\]/);
  });
});

describe('broker stack', () => {
  const role = roleNamed(broker, 'jit-broker');

  test('the broker role is assumed by the EKS service account through IRSA, and by nothing else', () => {
    const issuer = 'oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
    assert.equal(role.Path, '/jit-broker/');
    assert.deepEqual(role.AssumeRolePolicyDocument.Statement, [
      {
        Action: 'sts:AssumeRoleWithWebIdentity',
        Effect: 'Allow',
        Principal: {
          Federated: {
            'Fn::Join': [
              '',
              ['arn:', { Ref: 'AWS::Partition' }, `:iam::111111111111:oidc-provider/${issuer}`],
            ],
          },
        },
        Condition: {
          StringEquals: {
            [`${issuer}:sub`]: 'system:serviceaccount:jit-broker:jit-broker',
            [`${issuer}:aud`]: 'sts.amazonaws.com',
          },
        },
      },
    ]);
  });

  test('the broker may only start target-role sessions, become the ledger writer and read its secrets: no IAM action', () => {
    const statements = statementsOf(broker).filter((s) => s.roles.includes('jit-broker'));
    const actions = new Set(statements.flatMap((s) => [s.statement.Action].flat()));
    assert.deepEqual([...actions].sort(), [
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'sts:AssumeRole',
      'sts:SetSourceIdentity',
      'sts:TagSession',
    ]);
    const byId = Object.fromEntries(statements.map((s) => [s.statement.Sid, s.statement]));
    const targetArns = ['arn:aws:iam::222222222222:role/jit/*', 'arn:aws:iam::333333333333:role/jit/*'];
    assert.deepEqual(byId.AssumeTargetRoles?.Resource, targetArns);
    assert.deepEqual(byId.AssumeTargetRoles?.Condition, {
      StringEquals: { 'aws:ResourceTag/jit-target': 'true' },
    });
    assert.deepEqual(byId.NameAndTagTargetSessions?.Action, ['sts:SetSourceIdentity', 'sts:TagSession']);
    assert.deepEqual(byId.NameAndTagTargetSessions?.Condition, {
      'ForAllValues:StringEquals': { 'aws:TagKeys': ['jit-grant', 'jit-requester', 'jit-ticket'] },
    });
    assert.deepEqual(byId.AssumeLedgerWriters?.Resource, [
      'arn:aws:iam::222222222222:role/jit-broker/jit-ledger-writer',
      'arn:aws:iam::333333333333:role/jit-broker/jit-ledger-writer',
    ]);
  });

  test('no long-lived keys: no IAM user or access key in any stack', () => {
    for (const t of allTemplates) {
      t.resourceCountIs('AWS::IAM::User', 0);
      t.resourceCountIs('AWS::IAM::AccessKey', 0);
    }
  });

  test('secrets behind a flag, readable by the broker role only', () => {
    const names = resourcesOf(broker, 'AWS::SecretsManager::Secret').map((s) => s.Properties.Name);
    assert.deepEqual(names.sort(), [
      'jit-broker/assertion-signing-key',
      'jit-broker/payload-keys',
      'jit-broker/slack',
    ]);
    const reads = statementsOf(broker).filter((s) =>
      [s.statement.Action].flat().includes('secretsmanager:GetSecretValue'),
    );
    assert.ok(reads.length > 0 && reads.every((s) => s.roles.join() === 'jit-broker'));
    const off = Template.fromStack(
      buildApp(
        withConfig((c) => {
          c.broker.secrets = false;
        }),
      ).broker,
    );
    off.resourceCountIs('AWS::SecretsManager::Secret', 0);
    off.resourceCountIs('AWS::RDS::DBInstance', 0);
  });

  test('the optional database is encrypted, private, multi-AZ and reachable from the broker pods only', () => {
    const t = Template.fromStack(
      buildApp(
        withConfig((c) => {
          c.broker.database = {
            vpcId: 'vpc-0123456789abcdef0',
            subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
            availabilityZones: ['us-east-1a', 'us-east-1b'],
            clientSecurityGroupId: 'sg-0123456789abcdef0',
          };
        }),
      ).broker,
    );
    t.hasResourceProperties('AWS::RDS::DBInstance', {
      Engine: 'postgres',
      StorageEncrypted: true,
      MultiAZ: true,
      DeletionProtection: true,
      PubliclyAccessible: false,
    });
    const [group] = resourcesOf(t, 'AWS::EC2::SecurityGroup');
    assert.deepEqual(group?.Properties.SecurityGroupIngress, [
      {
        Description: 'the broker pods',
        FromPort: 5432,
        ToPort: 5432,
        IpProtocol: 'tcp',
        SourceSecurityGroupId: 'sg-0123456789abcdef0',
      },
    ]);
  });

  test('Pod Identity, a generic OIDC issuer and role chaining are the other ways in', () => {
    const pod = Template.fromStack(
      buildApp(
        withConfig((c) => {
          c.broker.trust = {
            kind: 'pod-identity',
            clusterName: 'prod',
            namespace: 'jit',
            serviceAccount: 'broker',
          };
        }),
      ).broker,
    );
    const podTrust = roleNamed(pod, 'jit-broker').AssumeRolePolicyDocument.Statement;
    assert.deepEqual(podTrust[0].Principal, { Service: 'pods.eks.amazonaws.com' });
    assert.deepEqual(podTrust[0].Action, ['sts:AssumeRole', 'sts:TagSession']);
    assert.deepEqual(Object.keys(podTrust[0].Condition).sort(), ['ArnEquals', 'StringEquals']);
    pod.hasResourceProperties('AWS::EKS::PodIdentityAssociation', {
      ClusterName: 'prod',
      Namespace: 'jit',
      ServiceAccount: 'broker',
    });

    const oidc = Template.fromStack(
      buildApp(
        withConfig((c) => {
          c.broker.trust = {
            kind: 'oidc',
            oidcIssuer: 'token.example.com',
            audience: 'sts',
            subject: 'jit-broker',
          };
        }),
      ).broker,
    );
    const oidcTrust = roleNamed(oidc, 'jit-broker').AssumeRolePolicyDocument.Statement[0];
    assert.equal(oidcTrust.Action, 'sts:AssumeRoleWithWebIdentity');
    assert.deepEqual(oidcTrust.Condition, {
      StringEquals: { 'token.example.com:sub': 'jit-broker', 'token.example.com:aud': 'sts' },
    });

    const chained = Template.fromStack(
      buildApp(
        withConfig((c) => {
          c.broker.trust = { kind: 'aws', principalArns: ['arn:aws:iam::111111111111:role/ecs-task'] };
        }),
      ).broker,
    );
    assert.deepEqual(roleNamed(chained, 'jit-broker').AssumeRolePolicyDocument.Statement[0].Principal, {
      AWS: 'arn:aws:iam::111111111111:role/ecs-task',
    });
  });
});

describe('target roles', () => {
  const broker = { Ref: 'BrokerPrincipalArn' };

  for (const configured of example.targets.roles) {
    test(`${configured.name}: /jit/ path, bounded, trusted by the broker only with SourceIdentity and JIT session tags`, () => {
      const role = roleNamed(targets, configured.name);
      assert.equal(role.Path, '/jit/');
      assert.equal(role.MaxSessionDuration, configured.maxSessionSeconds);
      assert.ok(role.PermissionsBoundary, 'a target role without a permissions boundary');
      assert.deepEqual(role.Tags, [{ Key: 'jit-target', Value: 'true' }]);
      const trust = role.AssumeRolePolicyDocument.Statement as PolicyStatementJson[];
      assert.ok(trust.every((s) => JSON.stringify(s.Principal) === JSON.stringify({ AWS: broker })));
      const assume = trust.find((s) => [s.Action].flat().includes('sts:AssumeRole'));
      assert.deepEqual(assume?.Condition, { Null: { 'sts:SourceIdentity': 'false' } });
      const tag = trust.find((s) => [s.Action].flat().includes('sts:TagSession'));
      assert.deepEqual(tag?.Condition, {
        'ForAllValues:StringEquals': { 'aws:TagKeys': ['jit-grant', 'jit-requester', 'jit-ticket'] },
        Null: { 'aws:RequestTag/jit-grant': 'false', 'aws:RequestTag/jit-requester': 'false' },
      });
    });
  }

  test('read-only roles are capped by ReadOnlyAccess, admin roles by the guardrail boundary', () => {
    const readonly = roleNamed(targets, 'jit-prod-readonly');
    assert.match(JSON.stringify(readonly.PermissionsBoundary), /:iam::aws:policy\/ReadOnlyAccess/);
    const admin = roleNamed(targets, 'jit-prod-admin');
    assert.deepEqual(admin.PermissionsBoundary, {
      Ref: Object.keys(targets.findResources('AWS::IAM::ManagedPolicy'))[0],
    });
  });

  test('the guardrail boundary keeps a session from lifting its own ceiling or deleting its ledger entry', () => {
    const [boundary] = resourcesOf(targets, 'AWS::IAM::ManagedPolicy');
    assert.equal(boundary?.Properties.Path, '/jit-broker/');
    const statements = boundary?.Properties.PolicyDocument.Statement as PolicyStatementJson[];
    const denied = (action: string, resourceSuffix: string) =>
      statements.some(
        (s) =>
          s.Effect === 'Deny' &&
          [s.Action].flat().includes(action) &&
          JSON.stringify(s.Resource).includes(resourceSuffix),
      );
    for (const action of [
      'iam:DeleteRolePolicy',
      'iam:PutRolePolicy',
      'iam:DeleteRolePermissionsBoundary',
      'iam:PutRolePermissionsBoundary',
      'iam:AttachRolePolicy',
      'iam:UpdateAssumeRolePolicy',
    ]) {
      assert.ok(denied(action, ':role/jit/*'), `${action} on /jit/ roles is not denied`);
    }
    assert.ok(denied('iam:CreatePolicyVersion', ':policy/jit-broker/*'));
    assert.ok(denied('sts:AssumeRole', ':role/jit-broker/*'));
  });

  test('the ledger writer edits inline policies of bounded /jit/ roles only, and is denied every widening action', () => {
    const writer = roleNamed(targets, 'jit-ledger-writer');
    assert.equal(writer.Path, '/jit-broker/');
    assert.deepEqual(writer.AssumeRolePolicyDocument.Statement, [
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { AWS: broker } },
    ]);
    const statements = statementsOf(targets)
      .filter((s) => s.roles.includes('jit-ledger-writer'))
      .map((s) => s.statement);
    const allows = statements.filter((s) => s.Effect === 'Allow');
    assert.deepEqual(allows.flatMap((s) => [s.Action].flat()).sort(), [
      'iam:DeleteRolePolicy',
      'iam:GetRole',
      'iam:GetRolePolicy',
      'iam:ListRolePolicies',
      'iam:PutRolePolicy',
    ]);
    for (const allow of allows) assert.match(JSON.stringify(allow.Resource), /:role\/jit\/\*"/);
    const edit = allows.find((s) => [s.Action].flat().includes('iam:PutRolePolicy'));
    const boundaries = new Set(
      example.targets.roles.map((r) => JSON.stringify(roleNamed(targets, r.name).PermissionsBoundary)),
    );
    const allowed = edit?.Condition?.StringEquals?.['iam:PermissionsBoundary'] as unknown[];
    assert.deepEqual(new Set(allowed.map((b) => JSON.stringify(b))), boundaries);
    const deny = statements.find((s) => s.Effect === 'Deny');
    for (const action of [
      'iam:PutRolePermissionsBoundary',
      'iam:DeleteRolePermissionsBoundary',
      'iam:AttachRolePolicy',
      'iam:UpdateAssumeRolePolicy',
      'iam:CreatePolicyVersion',
      'iam:SetDefaultPolicyVersion',
      'iam:PassRole',
    ]) {
      assert.ok([deny?.Action].flat().includes(action), `${action} not denied`);
    }
    assert.equal(deny?.Resource, '*');
    assert.match(writer.Description, new RegExp(REVOCATION_POLICY_NAME));
  });
});

describe('organization stack', () => {
  test('a service-managed StackSet with auto-deployment rolls the same target-role template out to the OUs', () => {
    const [stackSet] = resourcesOf(org, 'AWS::CloudFormation::StackSet');
    assert.ok(stackSet);
    const p = stackSet.Properties;
    assert.equal(p.PermissionModel, 'SERVICE_MANAGED');
    assert.deepEqual(p.AutoDeployment, { Enabled: true, RetainStacksOnAccountRemoval: false });
    assert.deepEqual(p.Capabilities, ['CAPABILITY_NAMED_IAM']);
    assert.deepEqual(p.StackInstancesGroup, [
      { DeploymentTargets: { OrganizationalUnitIds: ['ou-abcd-11111111'] }, Regions: ['us-east-1'] },
    ]);
    assert.deepEqual(p.Parameters, [
      {
        ParameterKey: 'BrokerPrincipalArn',
        ParameterValue: 'arn:aws:iam::111111111111:role/jit-broker/jit-broker',
      },
    ]);
    assert.deepEqual(JSON.parse(p.TemplateBody), targets.toJSON());
    assert.deepEqual(JSON.parse(p.TemplateBody), targetsTemplate(example));
  });
});

describe('deploy configuration', () => {
  test('an unknown field or a bad account id stops synth with the path named', () => {
    assert.throws(
      () => parseDeployConfig('region: us-east-1\nbrokerAccount: "1234"\n', 'x.yaml'),
      /x\.yaml: invalid deploy configuration:[\s\S]*brokerAccount: expected a 12-digit account id/,
    );
    assert.throws(
      () =>
        parseDeployConfig(
          JSON.stringify({ ...example, targets: { ...example.targets, rolez: [] } }),
          'y.yaml',
        ),
      /targets: Unrecognized key: "rolez"/,
    );
  });
});

describe('catalog in step with the CDK app', () => {
  const catalog = (arn: string, roleMaxSessionSeconds = 14400) =>
    parseCatalog(
      `roles:
  - id: prod-admin
    description: admin
    arn: ${arn}
    account: "${arn.split(':')[4]}"
    maxDuration: 1h
    approvalsRequired: 1
    requesterGroups: [engineers]
    reviewerGroups: [reviewers]
    roleMaxSessionSeconds: ${roleMaxSessionSeconds}
`,
      'catalog.yaml',
    ).roles;

  test('a catalog naming roles the app creates passes', () => {
    assert.deepEqual(
      catalogProblems(catalog('arn:aws:iam::222222222222:role/jit/jit-prod-admin'), example),
      [],
    );
  });

  test('a role the app does not create is refused, each reason named', () => {
    assert.deepEqual(catalogProblems(catalog('arn:aws:iam::222222222222:role/jit/jit-prod-admn'), example), [
      'role "prod-admin" (arn:aws:iam::222222222222:role/jit/jit-prod-admn): the app defines no role "jit-prod-admn" (targets.roles: jit-prod-readonly, jit-prod-admin, jit-breakglass-admin)',
    ]);
    assert.deepEqual(catalogProblems(catalog('arn:aws:iam::444444444444:role/jit-prod-admin'), example), [
      'role "prod-admin" (arn:aws:iam::444444444444:role/jit-prod-admin): path "/", the app creates target roles under "/jit/"',
      'role "prod-admin" (arn:aws:iam::444444444444:role/jit-prod-admin): account 444444444444 is not in the app\'s targets.accounts (222222222222, 333333333333)',
    ]);
    assert.deepEqual(
      catalogProblems(catalog('arn:aws:iam::222222222222:role/jit/jit-prod-admin', 3600), example),
      [
        'role "prod-admin" (arn:aws:iam::222222222222:role/jit/jit-prod-admin): roleMaxSessionSeconds 3600, the app sets MaxSessionDuration 14400',
      ],
    );
  });

  test('the target roles template is account-agnostic: the same body fits every account', () => {
    const body = JSON.stringify(targets.toJSON());
    for (const account of [example.brokerAccount, ...example.targets.accounts])
      assert.ok(!body.includes(account));
    assert.ok(Stack.of(built.targets).account.startsWith('${Token'));
  });
});
