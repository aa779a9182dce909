// What tests get from the private stack `npm test` (test/run.ts) brings up.
import { randomUUID } from 'node:crypto';
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import type { DevCredentials } from '../../infra/aws/seed.js';
import { brokerDataConverter } from '../../platform/data-converter.js';
import { parsePayloadKeys } from '../../platform/payload-codec.js';

// The SDK's INFO lines (worker state changes) would drown the test report.
Runtime.install({ logger: new DefaultLogger('WARN') });

export interface TestStack {
  temporalAddress: string;
  motoUrl: string;
  oidcIssuer: string;
  /** The broker's own dev principal in moto (least privilege). */
  broker: DevCredentials;
  /** moto's admin, for setting up test roles and looking at IAM. */
  admin: DevCredentials;
  region: string;
}

let cached: TestStack | undefined;

export function testStack(): TestStack {
  if (cached) return cached;
  const env = process.env;
  const {
    JIT_TEST_TEMPORAL_ADDRESS,
    JIT_TEST_MOTO_URL,
    JIT_TEST_OIDC_ISSUER,
    JIT_TEST_AWS_BROKER,
    JIT_TEST_AWS_ADMIN,
  } = env;
  if (
    !JIT_TEST_TEMPORAL_ADDRESS ||
    !JIT_TEST_MOTO_URL ||
    !JIT_TEST_OIDC_ISSUER ||
    !JIT_TEST_AWS_BROKER ||
    !JIT_TEST_AWS_ADMIN
  ) {
    throw new Error('no test stack: run tests with `npm test` or `npx tsx test/run.ts test/<file>.test.ts`');
  }
  cached = {
    temporalAddress: JIT_TEST_TEMPORAL_ADDRESS,
    motoUrl: JIT_TEST_MOTO_URL,
    oidcIssuer: JIT_TEST_OIDC_ISSUER,
    broker: JSON.parse(JIT_TEST_AWS_BROKER) as DevCredentials,
    admin: JSON.parse(JIT_TEST_AWS_ADMIN) as DevCredentials,
    region: 'us-east-1',
  };
  return cached;
}

/** A task queue of its own per test, so parallel test files never steal each other's tasks. */
export const uniqueTaskQueue = (prefix: string) => `${prefix}-${randomUUID()}`;

/**
 * The tests' payload key. Fixed, so recorded histories (test/fixtures/histories) can be replayed;
 * it protects nothing but test data and is never used outside tests.
 */
export const testPayloadKeys = 'test-fixture:ZGV2LW9ubHktdGVzdC1maXh0dXJlLWtleS0zMmJ5dGU=';
export const testDataConverter = () => brokerDataConverter(parsePayloadKeys(testPayloadKeys));

/**
 * The tests' assertion keys, fixed for the same reason (recorded histories carry signed commands).
 * Front doors in tests sign with the first; workers verify with the second.
 */
export const testSigningKey = 'test-fixture:ZGV2LW9ubHktdGVzdC1hc3NlcnRpb24tc2lnbmluZy0=';
export const testVerifyKeys = 'test-fixture:N8kIpSbMkV7OegUHvE7Ka0yLg4IxzT4ms0cX9Yu0Uyk=';

/** A client with the broker's encrypting data converter. */
export async function temporalClient(
  stack = testStack(),
): Promise<{ client: Client; close(): Promise<void> }> {
  const connection = await Connection.connect({ address: stack.temporalAddress });
  return {
    client: new Client({ connection, dataConverter: testDataConverter() }),
    close: () => connection.close(),
  };
}

export function workerConnection(stack = testStack()): Promise<NativeConnection> {
  return NativeConnection.connect({ address: stack.temporalAddress });
}

type AwsCredentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
const awsConfig = ({ accessKeyId, secretAccessKey, sessionToken }: AwsCredentials, stack: TestStack) => ({
  region: stack.region,
  endpoint: stack.motoUrl,
  credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) },
});

/** STS and IAM as the broker sees them. */
export const brokerSts = (stack = testStack()) => new STSClient(awsConfig(stack.broker, stack));
export const brokerIam = (stack = testStack()) => new IAMClient(awsConfig(stack.broker, stack));
/** IAM as moto's admin sees it. */
export const adminIam = (stack = testStack()) => new IAMClient(awsConfig(stack.admin, stack));
/** STS and IAM as a holder of issued session credentials sees them. */
export const stsWith = (credentials: AwsCredentials, stack = testStack()) =>
  new STSClient(awsConfig(credentials, stack));
export const iamWith = (credentials: AwsCredentials, stack = testStack()) =>
  new IAMClient(awsConfig(credentials, stack));
