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
} from '@aws-sdk/client-iam';
import { dataDir, ensureDir } from '../paths.js';

/** moto's default account. */
export const DEV_ACCOUNT_ID = '123456789012';
export const BROKER_USER = 'jit-broker';
const brokerArn = `arn:aws:iam::${DEV_ACCOUNT_ID}:user/${BROKER_USER}`;

/** Target roles of the example catalog, shaped like production ones. */
export const sampleRoles = [
  { name: 'jit-prod-readonly', maxSessionDuration: 3600, actions: ['s3:Get*', 's3:List*', 'ec2:Describe*'] },
  { name: 'jit-prod-admin', maxSessionDuration: 4 * 3600, actions: ['*'] },
  { name: 'jit-breakglass-admin', maxSessionDuration: 3600, actions: ['*'] },
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

export interface DevBrokerCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * Seeds moto with the broker's own principal and the sample target roles; idempotent.
 * Returns the broker's dev access key (kept under .data/, mode 0600).
 */
export async function seedMoto(endpoint: string, region = 'us-east-1'): Promise<DevBrokerCredentials> {
  // moto accepts any key for its own admin calls; these never leave the dev stack.
  const iam = new IAMClient({
    endpoint,
    region,
    credentials: { accessKeyId: 'seed', secretAccessKey: 'seed' },
  });
  try {
    const credentials = await ensureBrokerUser(iam);
    for (const role of sampleRoles) await ensureRole(iam, role);
    return credentials;
  } finally {
    iam.destroy();
  }
}

async function ensureBrokerUser(iam: IAMClient): Promise<DevBrokerCredentials> {
  await iam.send(new CreateUserCommand({ UserName: BROKER_USER })).catch(ignoreExists);
  const file = join(ensureDir(join(dataDir, 'aws')), 'broker-credentials.json');
  const { AccessKeyMetadata = [] } = await iam.send(new ListAccessKeysCommand({ UserName: BROKER_USER }));
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as DevBrokerCredentials;
    if (AccessKeyMetadata.some((k) => k.AccessKeyId === saved.accessKeyId)) return saved;
  }
  const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: BROKER_USER }));
  if (!AccessKey?.AccessKeyId || !AccessKey.SecretAccessKey) throw new Error('moto returned no access key');
  const credentials = { accessKeyId: AccessKey.AccessKeyId, secretAccessKey: AccessKey.SecretAccessKey };
  writeFileSync(file, JSON.stringify(credentials), { mode: 0o600 });
  chmodSync(file, 0o600);
  return credentials;
}

async function ensureRole(iam: IAMClient, role: (typeof sampleRoles)[number]): Promise<void> {
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
