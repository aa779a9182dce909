// The queue door's process (`npm run queue`): Step Functions state machines ask for grants by
// sending to JIT_HANDOFF_QUEUE_URL (README, "Step Functions"). A front door of its own, not part of
// the worker: it holds the assertion signing key, which workers must never have.
import { Client, Connection } from '@temporalio/client';
import { GrantService } from '../api/grant-service.js';
import { awsOperations, createAwsClients } from '../integrations/aws.js';
import { createSqsClient, sqsOperations } from '../integrations/sqs.js';
import { createStepFunctionsClient, stepFunctionsOperations } from '../integrations/stepfunctions.js';
import { AssertionSigner } from '../platform/assertion-signer.js';
import { ConfigError, loadConfig, required } from '../platform/config.js';
import { brokerDataConverter } from '../platform/data-converter.js';
import { GrantClient } from '../platform/grant-client.js';
import { announceSigningKey, checkPayloadKeys, KeyMismatchError } from '../platform/key-check.js';
import { createLogger } from '../platform/logger.js';
import type { EncryptionCodec } from '../platform/payload-codec.js';
import { temporalConnectionOptions } from '../platform/temporal-connection.js';
import { PolicyEngine, PolicyLoadError } from '../policies/engine.js';
import { openAuditStore } from '../store/index.js';
import { consume } from './consumer.js';
import { HandoffDoor } from './door.js';
import { SenderDirectory } from './senders.js';

const log = createLogger('queue');

async function main(): Promise<void> {
  const config = loadConfig();
  const queueUrl = required(config, 'JIT_HANDOFF_QUEUE_URL');
  const engine = PolicyEngine.load(config.JIT_POLICY_DIR);
  const connection = await Connection.connect(temporalConnectionOptions(config));
  const client = new Client({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    dataConverter: brokerDataConverter(config.JIT_PAYLOAD_KEYS),
  });
  const store = await openAuditStore(config.DATABASE_URL);
  const signingKey = required(config, 'JIT_ASSERTION_SIGNING_KEY');
  await checkPayloadKeys(
    store.keys,
    client.options.loadedDataConverter.payloadCodecs[0] as EncryptionCodec,
    config.JIT_PAYLOAD_KEYS,
  );
  await announceSigningKey(store.keys, signingKey);
  const aws = { region: config.AWS_REGION, endpoint: config.AWS_ENDPOINT_URL };
  const clients = createAwsClients({ ...aws, ledgerWriterRole: config.JIT_LEDGER_WRITER_ROLE });
  const sqs = createSqsClient(aws);
  const sfn = createStepFunctionsClient(aws);
  const service = new GrantService({
    grants: new GrantClient({
      client,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      signer: new AssertionSigner(signingKey, 'queue'),
    }),
    store,
    engine,
    console: {
      federationEndpoint: config.AWS_FEDERATION_ENDPOINT,
      destination: config.AWS_CONSOLE_DESTINATION,
    },
  });
  const senders = new SenderDirectory(
    engine.workloads,
    awsOperations(clients).roleUniqueId,
    (message, detail) => log.warn(detail, message),
  );
  await senders.refresh();
  const door = new HandoffDoor({
    service,
    senders,
    sfn: stepFunctionsOperations(sfn),
    watchSeconds: config.JIT_HANDOFF_WATCH_SECONDS,
    log,
  });

  const stop = new AbortController();
  const shutdown = (signal: string) => {
    log.info({ signal }, 'shutting down after the messages in hand');
    stop.abort();
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  log.info({ queueUrl, workloads: engine.workloads.all().length }, 'queue door polling');
  try {
    await consume({ sqs: sqsOperations(sqs), queueUrl, door, log }, stop.signal);
  } finally {
    sqs.destroy();
    sfn.destroy();
    clients.destroy();
    await store.close();
    await connection.close();
  }
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof PolicyLoadError || err instanceof KeyMismatchError) {
    process.stderr.write(`queue: ${err.message}\n`);
  } else {
    log.fatal({ err }, 'queue door failed');
  }
  process.exit(1);
});
