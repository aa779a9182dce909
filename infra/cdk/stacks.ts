// The three stacks of the deployment: the broker (its account), the target roles (every target
// account, as a StackSet), and the organization stack that rolls the target roles out.
import { CfnOutput, CfnParameter, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as cfn from 'aws-cdk-lib/aws-cloudformation';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { BrokerTrust, DeployConfig } from './config.js';
import { acknowledge } from './nag.js';
import {
  BROKER_ROLE_NAME,
  BROKER_ROLE_PATH,
  brokerRoleArn,
  LEDGER_WRITER_ROLE_NAME,
  ledgerWriterRoleArn,
  SESSION_TAG_KEYS,
  TARGET_ROLE_TAG,
  targetRoleArn,
} from './names.js';
import { JitGuardrailBoundary, JitLedgerWriterRole, JitTargetRole } from './target-roles.js';

export const BROKER_PRINCIPAL_PARAMETER = 'BrokerPrincipalArn';

const managedPolicy = (scope: Construct, id: string, nameOrArn: string) =>
  nameOrArn.startsWith('arn:')
    ? iam.ManagedPolicy.fromManagedPolicyArn(scope, id, nameOrArn)
    : iam.ManagedPolicy.fromAwsManagedPolicyName(nameOrArn);

/**
 * The target roles, their boundaries and the ledger writer for one account. Account-agnostic: the
 * StackSet deploys this template everywhere, and a platform team can deploy it as a plain stack.
 */
export class JitTargetsStack extends Stack {
  constructor(scope: Construct, id: string, props: StackProps & { config: DeployConfig }) {
    super(scope, id, {
      description: 'jit-broker: target roles under /jit/, their boundaries, the ledger writer',
      ...props,
    });
    const { targets } = props.config;
    const broker = new CfnParameter(this, BROKER_PRINCIPAL_PARAMETER, {
      type: 'String',
      description: `ARN of the broker's role (the JitBroker stack's output BrokerRoleArn)`,
      allowedPattern: '^arn:aws[a-z-]*:(iam|sts)::\\d{12}:[\\w+=,.@/-]+$',
    }).valueAsString;

    const guardrail = new JitGuardrailBoundary(this, 'GuardrailBoundary', {
      stackSetName: targets.stackSetName,
    }).policy;
    const readOnly = iam.ManagedPolicy.fromAwsManagedPolicyName('ReadOnlyAccess');
    const boundaries = { guardrail, 'read-only': readOnly } as const;

    for (const role of targets.roles) {
      const target = new JitTargetRole(this, role.name, {
        roleName: role.name,
        ...(role.description ? { description: role.description } : {}),
        brokerPrincipalArn: broker,
        maxSessionDuration: Duration.seconds(role.maxSessionSeconds),
        managedPolicies: role.managedPolicies.map((p, i) => managedPolicy(this, `${role.name}Policy${i}`, p)),
        awsManagedPolicyNames: role.managedPolicies.filter((p) => !p.startsWith('arn:')),
        permissionsBoundary: boundaries[role.boundary],
      });
      new CfnOutput(this, `${role.name.replace(/[^A-Za-z0-9]/g, '')}Arn`, { value: target.role.roleArn });
    }
    const writer = new JitLedgerWriterRole(this, 'LedgerWriter', {
      brokerPrincipalArn: broker,
      boundaries: [guardrail, readOnly],
    });
    new CfnOutput(this, 'LedgerWriterRoleArn', { value: writer.role.roleArn });
  }
}

/** The broker's role (web identity, no keys) and, optionally, its secrets and database. */
export class JitBrokerStack extends Stack {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: StackProps & { config: DeployConfig }) {
    super(scope, id, props);
    const { config } = props;
    const { partition } = config;
    this.role = new iam.Role(this, 'BrokerRole', {
      roleName: BROKER_ROLE_NAME,
      path: BROKER_ROLE_PATH,
      description:
        'jit-broker API and worker: issues target-role sessions, writes ledgers via the ledger writer',
      assumedBy: brokerPrincipal(this, config.broker.trust),
      maxSessionDuration: Duration.hours(1),
    });
    // A separate AWS::IAM::Policy rather than the role's Policies property: moto's CloudFormation
    // stores the latter unserialized and then fails every call of the role's sessions.
    const policy = new iam.Policy(this, 'BrokerPolicy', {
      policyName: 'jit-broker',
      roles: [this.role],
      statements: brokerStatements(config.targets.accounts, partition),
    });
    acknowledge(
      policy,
      'AwsSolutions-IAM5',
      'Target roles are named by the platform team: the broker may assume any role under /jit/ tagged jit-target=true in the listed accounts, nothing outside that path.',
      config.targets.accounts.map((account) => `Resource::${targetRoleArn(account, '*', partition)}`),
    );
    if (config.broker.trust.kind === 'pod-identity') {
      new eks.CfnPodIdentityAssociation(this, 'PodIdentity', {
        clusterName: config.broker.trust.clusterName,
        namespace: config.broker.trust.namespace,
        serviceAccount: config.broker.trust.serviceAccount,
        roleArn: this.role.roleArn,
      });
    }
    new CfnOutput(this, 'BrokerRoleArn', { value: this.role.roleArn });

    if (config.broker.secrets) this.addSecrets();
    if (config.broker.database) this.addDatabase(config.broker.database);
  }

  /** Containers for the secrets the broker reads; the operator puts the values (docs/deploy.md). */
  private addSecrets(): void {
    const secrets = {
      PayloadKeys: [
        'jit-broker/payload-keys',
        'JIT_PAYLOAD_KEYS: id:base64(32 bytes), comma-separated, newest first',
      ],
      AssertionSigningKey: [
        'jit-broker/assertion-signing-key',
        'JIT_ASSERTION_SIGNING_KEY of the front doors',
      ],
      Slack: ['jit-broker/slack', 'JSON {"botToken","signingSecret"} of the Slack app'],
    } as const;
    for (const [id, [secretName, description]] of Object.entries(secrets)) {
      const secret = new secretsmanager.Secret(this, id, {
        secretName,
        description,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      secret.grantRead(this.role);
      acknowledge(
        secret,
        'AwsSolutions-SMG4',
        'Set by the operator and rotated by procedure (payload keys rotate by prepending a new key id); no rotation Lambda can produce these values.',
      );
      new CfnOutput(this, `${id}SecretArn`, { value: secret.secretArn });
    }
  }

  private addDatabase(db: NonNullable<DeployConfig['broker']['database']>): void {
    const vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: db.vpcId,
      availabilityZones: db.availabilityZones,
      privateSubnetIds: db.subnetIds,
    });
    const securityGroup = new ec2.SecurityGroup(this, 'DatabaseSecurityGroup', {
      vpc,
      description: 'jit-broker audit store: PostgreSQL from the broker only',
      allowAllOutbound: false,
    });
    securityGroup.addIngressRule(
      ec2.Peer.securityGroupId(db.clientSecurityGroupId),
      ec2.Port.tcp(5432),
      'the broker pods',
    );
    const instance = new rds.DatabaseInstance(this, 'Database', {
      engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_17 }),
      instanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MEDIUM),
      vpc,
      vpcSubnets: { subnets: vpc.privateSubnets },
      securityGroups: [securityGroup],
      databaseName: 'jit',
      // URL-unsafe characters excluded so the password can sit in a DATABASE_URL unescaped.
      credentials: rds.Credentials.fromGeneratedSecret('jit_broker', {
        secretName: 'jit-broker/database',
        excludeCharacters: ` %+~\`#$&*()|[]{}:;<>?!'/@"\\=,^`,
      }),
      multiAz: true,
      storageEncrypted: true,
      deletionProtection: true,
      backupRetention: Duration.days(14),
      cloudwatchLogsExports: ['postgresql'],
      removalPolicy: RemovalPolicy.SNAPSHOT,
      parameterGroup: new rds.ParameterGroup(this, 'DatabaseParameters', {
        engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_17 }),
        parameters: { 'rds.force_ssl': '1' },
      }),
    });
    instance.secret?.grantRead(this.role);
    for (const [rule, reason] of [
      [
        'AwsSolutions-SMG4',
        'Rotation would change the password under running pods; rotate by procedure (docs/deploy.md).',
      ],
      [
        'AwsSolutions-RDS6',
        'The broker authenticates with the generated password; IAM database auth tokens are not supported by the broker yet.',
      ],
      ['AwsSolutions-RDS11', 'The default port is fine: the security group admits only the broker pods.'],
    ] as const) {
      acknowledge(instance, rule, reason);
    }
    new CfnOutput(this, 'DatabaseUrlWithoutPassword', {
      value: `postgres://jit_broker@${instance.dbInstanceEndpointAddress}:${instance.dbInstanceEndpointPort}/jit?sslmode=verify-full`,
    });
    if (instance.secret) new CfnOutput(this, 'DatabaseSecretArn', { value: instance.secret.secretArn });
  }
}

function brokerPrincipal(stack: Stack, trust: BrokerTrust): iam.IPrincipal {
  const provider = (issuer: string) => `arn:${stack.partition}:iam::${stack.account}:oidc-provider/${issuer}`;
  switch (trust.kind) {
    case 'irsa':
      return new iam.WebIdentityPrincipal(provider(trust.oidcIssuer), {
        StringEquals: {
          [`${trust.oidcIssuer}:sub`]: `system:serviceaccount:${trust.namespace}:${trust.serviceAccount}`,
          [`${trust.oidcIssuer}:aud`]: 'sts.amazonaws.com',
        },
      });
    case 'oidc':
      return new iam.WebIdentityPrincipal(provider(trust.oidcIssuer), {
        StringEquals: {
          [`${trust.oidcIssuer}:sub`]: trust.subject,
          [`${trust.oidcIssuer}:aud`]: trust.audience,
        },
      });
    case 'pod-identity':
      // Pod Identity needs sts:TagSession besides AssumeRole; only this account's cluster may ask.
      return new iam.SessionTagsPrincipal(
        new iam.ServicePrincipal('pods.eks.amazonaws.com', {
          conditions: {
            StringEquals: { 'aws:SourceAccount': stack.account },
            ArnEquals: {
              'aws:SourceArn': `arn:${stack.partition}:eks:${stack.region}:${stack.account}:cluster/${trust.clusterName}`,
            },
          },
        }),
      );
    case 'aws':
      return new iam.CompositePrincipal(...trust.principalArns.map((arn) => new iam.ArnPrincipal(arn)));
  }
}

/** The broker may start sessions of target roles and become the ledger writer; nothing else. */
export function brokerStatements(accounts: string[], partition: string): iam.PolicyStatement[] {
  const targetRoles = accounts.map((account) => targetRoleArn(account, '*', partition));
  return [
    new iam.PolicyStatement({
      sid: 'AssumeTargetRoles',
      actions: ['sts:AssumeRole'],
      resources: targetRoles,
      conditions: { StringEquals: { [`aws:ResourceTag/${TARGET_ROLE_TAG.key}`]: TARGET_ROLE_TAG.value } },
    }),
    new iam.PolicyStatement({
      sid: 'NameAndTagTargetSessions',
      actions: ['sts:SetSourceIdentity', 'sts:TagSession'],
      resources: targetRoles,
      conditions: { 'ForAllValues:StringEquals': { 'aws:TagKeys': [...SESSION_TAG_KEYS] } },
    }),
    new iam.PolicyStatement({
      sid: 'AssumeLedgerWriters',
      actions: ['sts:AssumeRole'],
      resources: accounts.map((account) => ledgerWriterRoleArn(account, partition)),
    }),
  ];
}

/** Rolls the target roles out to every account of the OUs, now and as accounts join. */
export class JitOrgStack extends Stack {
  constructor(
    scope: Construct,
    id: string,
    props: StackProps & { config: DeployConfig; targetsTemplate: object },
  ) {
    super(scope, id, props);
    const { config } = props;
    const body = JSON.stringify(props.targetsTemplate);
    // CloudFormation takes at most 51,200 bytes inline; past that the template needs an S3 URL.
    if (Buffer.byteLength(body) > 51_200) throw new Error(`target-roles template is ${body.length} bytes`);
    const stackSet = new cfn.CfnStackSet(this, 'TargetRoles', {
      stackSetName: config.targets.stackSetName,
      description: `jit-broker target roles (/jit/) and ${LEDGER_WRITER_ROLE_NAME}`,
      permissionModel: 'SERVICE_MANAGED',
      autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
      callAs: config.targets.callAs,
      capabilities: ['CAPABILITY_NAMED_IAM'],
      managedExecution: { Active: true },
      operationPreferences: {
        failureToleranceCount: 0,
        maxConcurrentPercentage: 25,
        regionConcurrencyType: 'SEQUENTIAL',
      },
      parameters: [
        {
          parameterKey: BROKER_PRINCIPAL_PARAMETER,
          parameterValue: brokerRoleArn(config.brokerAccount, config.partition),
        },
      ],
      // IAM is global: one region per account is enough.
      stackInstancesGroup: [
        {
          deploymentTargets: { organizationalUnitIds: config.targets.organizationalUnitIds },
          regions: [config.region],
        },
      ],
      templateBody: body,
    });
    new CfnOutput(this, 'StackSetId', { value: stackSet.attrStackSetId });
  }
}
