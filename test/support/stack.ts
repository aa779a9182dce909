// What tests get from the private stack `npm test` (test/run.ts) brings up.
import { randomUUID } from 'node:crypto';
import { STSClient } from '@aws-sdk/client-sts';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';

// The SDK's INFO lines (worker state changes) would drown the test report.
Runtime.install({ logger: new DefaultLogger('WARN') });

export interface TestStack {
  temporalAddress: string;
  motoUrl: string;
  oidcIssuer: string;
  /** The broker's own dev principal in moto. */
  brokerCredentials: { accessKeyId: string; secretAccessKey: string };
  region: string;
}

export function testStack(): TestStack {
  const env = process.env;
  const temporalAddress = env.JIT_TEST_TEMPORAL_ADDRESS;
  const motoUrl = env.JIT_TEST_MOTO_URL;
  const oidcIssuer = env.JIT_TEST_OIDC_ISSUER;
  const accessKeyId = env.JIT_TEST_AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.JIT_TEST_AWS_SECRET_ACCESS_KEY;
  if (!temporalAddress || !motoUrl || !oidcIssuer || !accessKeyId || !secretAccessKey) {
    throw new Error('no test stack: run tests with `npm test` or `npx tsx test/run.ts test/<file>.test.ts`');
  }
  return {
    temporalAddress,
    motoUrl,
    oidcIssuer,
    brokerCredentials: { accessKeyId, secretAccessKey },
    region: 'us-east-1',
  };
}

/** A task queue of its own per test, so parallel test files never steal each other's tasks. */
export const uniqueTaskQueue = (prefix: string) => `${prefix}-${randomUUID()}`;

export async function temporalClient(
  stack = testStack(),
): Promise<{ client: Client; close(): Promise<void> }> {
  const connection = await Connection.connect({ address: stack.temporalAddress });
  return { client: new Client({ connection }), close: () => connection.close() };
}

export function workerConnection(stack = testStack()): Promise<NativeConnection> {
  return NativeConnection.connect({ address: stack.temporalAddress });
}

/** STS as the broker sees it in tests. */
export function brokerSts(stack = testStack()): STSClient {
  return new STSClient({
    region: stack.region,
    endpoint: stack.motoUrl,
    credentials: stack.brokerCredentials,
  });
}

/** STS as a holder of issued session credentials sees it. */
export function stsWith(
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string },
  stack = testStack(),
): STSClient {
  const { accessKeyId, secretAccessKey, sessionToken } = credentials;
  return new STSClient({
    region: stack.region,
    endpoint: stack.motoUrl,
    credentials: { accessKeyId, secretAccessKey, sessionToken },
  });
}
