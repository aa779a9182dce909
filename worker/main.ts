import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { ConfigError, loadConfig } from '../common/config.js';
import { brokerDataConverter } from '../common/data-converter.js';
import { createLogger } from '../common/logger.js';
import { temporalConnectionOptions } from '../common/temporal-connection.js';
import { PolicyEngine, PolicyLoadError } from '../policies/engine.js';
import { workflowBundle } from './bundle.js';
import { createBrokerWorker } from './worker.js';

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
  const { activities, close } = await createActivities({ config, engine, client });
  try {
    const { prebuilt, ...bundle } = await workflowBundle();
    const worker = await createBrokerWorker({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      activities,
      dataConverter,
      workflowBundle: bundle,
      maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
      // SIGTERM drains: no new tasks; running activities (AWS calls, audit rows) get 10 s to finish,
      // then are cancelled and retried elsewhere. Past 20 s the worker stops anyway: whatever it had
      // not finished stays in Temporal for the next worker (orchestrators kill at 30 s by default).
      shutdownGraceTime: 10_000,
      shutdownForceTime: 20_000,
    });
    const identity = await activities.brokerIdentity();
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
  if (err instanceof ConfigError || err instanceof PolicyLoadError) {
    process.stderr.write(`worker: ${err.message}\n`);
  } else {
    log.fatal({ err }, 'worker failed');
  }
  process.exit(1);
});
