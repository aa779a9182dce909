import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  EntityAlreadyExistsException,
  GetRoleCommand,
  IAMClient,
  ListAccessKeysCommand,
  NoSuchEntityException,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { dataDir, ensureDir } from '../paths.js';

/** moto's default account. */
export const DEV_ACCOUNT_ID = '123456789012';
export const BROKER_USER = 'jit-broker';
const brokerArn = `arn:aws:iam::${DEV_ACCOUNT_ID}:user/${BROKER_USER}`;

/** Target roles of the example catalog, shaped like production ones. */
export const sampleRoles = [
  {
    name: 'jit-prod-readonly',
    maxSessionDuration: 3600,
    actions: ['s3:Get*', 's3:List*', 'ec2:Describe*', 'iam:Get*', 'iam:List*'],
  },
  { name: 'jit-prod-admin', maxSessionDuration: 4 * 3600, actions: ['*'] },
  { name: 'jit-breakglass-admin', maxSessionDuration: 3600, actions: ['*'] },
  {
    name: 'jit-prod-deploy',
    maxSessionDuration: 3600,
    actions: ['s3:*', 'cloudformation:*', 'ecs:UpdateService', 'ecs:Describe*'],
  },
] as const;

/**
 * Only the broker may assume a target role, only with a SourceIdentity (so CloudTrail names the
 * person) and it may tag the session. moto does not enforce this; real AWS does.
 */
export function targetRoleTrustPolicy(brokerPrincipalArn: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'BrokerAssumesWithSourceIdentity',
        Effect: 'Allow',
        Principal: { AWS: brokerPrincipalArn },
        Action: 'sts:AssumeRole',
        Condition: { Null: { 'sts:SourceIdentity': 'false' } },
      },
      {
        Sid: 'BrokerTagsSessions',
        Effect: 'Allow',
        Principal: { AWS: brokerPrincipalArn },
        Action: ['sts:TagSession', 'sts:SetSourceIdentity'],
      },
    ],
  });
}

export interface DevCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** What the broker itself may do: assume and tag sessions of, and manage deny policies on, `jit-*` roles. */
export const brokerPolicy = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'IssueSessions',
      Effect: 'Allow',
      Action: ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'],
      Resource: `arn:aws:iam::${DEV_ACCOUNT_ID}:role/jit-*`,
    },
    {
      Sid: 'AnswerStepFunctions',
      Effect: 'Allow',
      Action: [
        'states:SendTaskSuccess',
        'states:SendTaskFailure',
        'states:SendTaskHeartbeat',
        'states:DescribeExecution',
      ],
      Resource: '*',
    },
    {
      Sid: 'KeepRevocationLedger',
      Effect: 'Allow',
      Action: [
        'iam:GetRole',
        'iam:ListRolePolicies',
        'iam:GetRolePolicy',
        'iam:PutRolePolicy',
        'iam:DeleteRolePolicy',
      ],
      Resource: `arn:aws:iam::${DEV_ACCOUNT_ID}:role/jit-*`,
    },
  ],
});

/** moto checks signatures and IAM policies only when told to; `count` requests pass unchecked. */
export async function motoAuthAfter(endpoint: string, count: number): Promise<void> {
  const res = await fetch(`${endpoint}/moto-api/reset-auth`, { method: 'POST', body: String(count) });
  if (!res.ok) throw new Error(`moto reset-auth answered ${res.status}`);
}

export const ADMIN_USER = 'jit-dev-admin';
const adminPolicy = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
});

export interface SeededPrincipals {
  /** The broker's own principal: only what the broker needs (brokerPolicy). */
  broker: DevCredentials;
  /** Everything, for tests and for looking around the emulator; never given to the broker. */
  admin: DevCredentials;
}

/**
 * Seeds moto with the broker's own principal, an admin and the sample target roles (idempotent),
 * then turns on moto's IAM enforcement so the broker works with exactly the permissions it would
 * have in AWS. Access keys are kept in `keysDir` (mode 0600) and reused while moto knows them.
 */
export async function seedMoto(
  endpoint: string,
  keysDir = join(dataDir, 'aws'),
  region = 'us-east-1',
): Promise<SeededPrincipals> {
  await motoAuthAfter(endpoint, 1_000_000);
  // With enforcement off, moto accepts any key for the seed's own calls.
  const iam = new IAMClient({
    endpoint,
    region,
    credentials: { accessKeyId: 'seed', secretAccessKey: 'seed' },
  });
  try {
    const broker = await ensureUser(iam, BROKER_USER, brokerPolicy, keysDir);
    const admin = await ensureUser(iam, ADMIN_USER, adminPolicy, keysDir);
    for (const role of sampleRoles) await ensureRole(iam, role);
    return { broker, admin };
  } finally {
    iam.destroy();
    await motoAuthAfter(endpoint, 0);
  }
}

export async function ensureUser(
  iam: IAMClient,
  UserName: string,
  policy: string,
  keysDir: string,
): Promise<DevCredentials> {
  await iam.send(new CreateUserCommand({ UserName })).catch(ignoreExists);
  await iam.send(new PutUserPolicyCommand({ UserName, PolicyName: UserName, PolicyDocument: policy }));
  const file = join(ensureDir(keysDir), `${UserName}.json`);
  const { AccessKeyMetadata = [] } = await iam.send(new ListAccessKeysCommand({ UserName }));
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as DevCredentials;
    if (AccessKeyMetadata.some((k) => k.AccessKeyId === saved.accessKeyId)) return saved;
  }
  const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName }));
  if (!AccessKey?.AccessKeyId || !AccessKey.SecretAccessKey) throw new Error('moto returned no access key');
  const credentials = { accessKeyId: AccessKey.AccessKeyId, secretAccessKey: AccessKey.SecretAccessKey };
  writeFileSync(file, JSON.stringify(credentials), { mode: 0o600 });
  chmodSync(file, 0o600);
  return credentials;
}

/** Creates a target role shaped like production ones: trust only the broker, require SourceIdentity. */
export async function ensureRole(
  iam: IAMClient,
  role: { name: string; maxSessionDuration: number; actions: readonly string[] },
): Promise<void> {
  const exists = await iam
    .send(new GetRoleCommand({ RoleName: role.name }))
    .then(() => true)
    .catch((err: unknown) => {
      if (err instanceof NoSuchEntityException) return false;
      throw err;
    });
  if (exists) return;
  await iam.send(
    new CreateRoleCommand({
      RoleName: role.name,
      AssumeRolePolicyDocument: targetRoleTrustPolicy(brokerArn),
      MaxSessionDuration: role.maxSessionDuration,
      Description: 'jit-broker sample target role (dev stack)',
    }),
  );
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: role.name,
      PolicyName: 'access',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: role.actions, Resource: '*' }],
      }),
    }),
  );
}

function ignoreExists(err: unknown): void {
  if (err instanceof EntityAlreadyExistsException) return;
  throw err;
}
