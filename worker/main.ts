import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { ConfigError, loadConfig, required } from '../platform/config.js';
import { brokerDataConverter } from '../platform/data-converter.js';
import { checkPayloadKeys, checkVerificationKeys, KeyMismatchError } from '../platform/key-check.js';
import { createLogger } from '../platform/logger.js';
import type { EncryptionCodec } from '../platform/payload-codec.js';
import { temporalConnectionOptions } from '../platform/temporal-connection.js';
import { PolicyEngine, PolicyLoadError } from '../policies/engine.js';
import { workflowBundle } from './bundle.js';
import { createBrokerWorker, startReconciler } from './worker.js';

const log = createLogger('worker');

// The SDK's own log lines go through pino too, so redaction applies to them as well.
Runtime.install({
  logger: new DefaultLogger('INFO', ({ level, message, meta }) => {
    const method = level.toLowerCase() as 'trace' | 'debug' | 'info' | 'warn' | 'error';
    log[method](meta ?? {}, message);
  }),
});

async function main(): Promise<void> {
  const config = loadConfig();
  const engine = PolicyEngine.load(config.JIT_POLICY_DIR);
  const dataConverter = brokerDataConverter(config.JIT_PAYLOAD_KEYS);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  const clientConnection = await Connection.connect(temporalConnectionOptions(config));
  const client = new Client({
    connection: clientConnection,
    namespace: config.TEMPORAL_NAMESPACE,
    dataConverter,
  });
  const assertionVerifyKeys = required(config, 'JIT_ASSERTION_VERIFY_KEYS');
  const { activities, aws, store, close } = await createActivities({ config, engine, client });
  try {
    // Refuse to poll with keys that cannot read the others' payloads or verify their decisions.
    await checkPayloadKeys(
      store.keys,
      dataConverter.payloadCodecs?.[0] as EncryptionCodec,
      config.JIT_PAYLOAD_KEYS,
    );
    await checkVerificationKeys(store.keys, assertionVerifyKeys);
    const { prebuilt, ...bundle } = await workflowBundle();
    const worker = await createBrokerWorker({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      activities,
      dataConverter,
      workflowBundle: bundle,
      assertionVerifyKeys,
      maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
      // SIGTERM drains: no new tasks; running activities (AWS calls, audit rows) get 10 s to finish,
      // then are cancelled and retried elsewhere. Past 20 s the worker stops anyway: whatever it had
      // not finished stays in Temporal for the next worker (orchestrators kill at 30 s by default).
      shutdownGraceTime: 10_000,
      shutdownForceTime: 20_000,
    });
    await startReconciler(client, config.TEMPORAL_TASK_QUEUE, config.JIT_RECONCILE_INTERVAL);
    const identity = await aws.brokerIdentity();
    log.info(
      {
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        aws: identity.arn,
        node: process.version,
        workflowBundle: prebuilt ? 'prebuilt' : 'built at start',
      },
      'worker started',
    );
    // Resolves after SIGINT/SIGTERM once in-flight tasks are done (the SDK installs the handlers).
    await worker.run();
    log.info('worker stopped');
  } finally {
    await close();
    await clientConnection.close();
    await connection.close();
  }
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof PolicyLoadError || err instanceof KeyMismatchError) {
    process.stderr.write(`worker: ${err.message}\n`);
  } else {
    log.fatal({ err }, 'worker failed');
  }
  process.exit(1);
});
