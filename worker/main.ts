// Tracing first (see instrument.ts); the rest after it.
import './instrument.js';
import { Resource } from '@opentelemetry/resources';
import { NoopSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Client, Connection } from '@temporalio/client';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/worker/index.js';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { ConfigError, loadConfig, required } from '../platform/config.js';
import { brokerDataConverter } from '../platform/data-converter.js';
import { checkPayloadKeys, checkVerificationKeys, KeyMismatchError } from '../platform/key-check.js';
import { createLogger } from '../platform/logger.js';
import type { EncryptionCodec } from '../platform/payload-codec.js';
import { temporalClientInterceptors, tracing } from '../platform/telemetry.js';
import { temporalConnectionOptions } from '../platform/temporal-connection.js';
import { PolicyEngine, PolicyLoadError } from '../policies/engine.js';
import { workflowBundle } from './bundle.js';
import { WorkerMetrics } from './metrics.js';
import { freeLoopbackPort, startMetricsServer } from './metrics-server.js';
import { createBrokerWorker, startReconciler } from './worker.js';

const log = createLogger('worker');

/** The SDK's meta, with a grant's workflow id as `grant_id` (what every broker log line about a grant carries). */
function withGrantId(meta: Record<string, unknown> | undefined): Record<string, unknown> {
  const workflowId = meta?.workflowId;
  return typeof workflowId === 'string' && workflowId.startsWith('grant-')
    ? { ...meta, grant_id: workflowId }
    : (meta ?? {});
}

async function main(): Promise<void> {
  const config = loadConfig();
  // The SDK's log lines go through pino too, so redaction applies to them as well; its metrics go
  // to a loopback port that the worker's /metrics reads.
  const sdkMetricsPort = await freeLoopbackPort();
  Runtime.install({
    logger: new DefaultLogger('INFO', ({ level, message, meta }) => {
      const method = level.toLowerCase() as 'trace' | 'debug' | 'info' | 'warn' | 'error';
      log[method](withGrantId(meta), message);
    }),
    telemetryOptions: {
      metrics: {
        prometheus: { bindAddress: `127.0.0.1:${sdkMetricsPort}`, useSecondsForDurations: true },
      },
    },
  });
  const engine = PolicyEngine.load(config.JIT_POLICY_DIR);
  const dataConverter = brokerDataConverter(config.JIT_PAYLOAD_KEYS);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  const clientConnection = await Connection.connect(temporalConnectionOptions(config));
  const client = new Client({
    connection: clientConnection,
    namespace: config.TEMPORAL_NAMESPACE,
    dataConverter,
    interceptors: temporalClientInterceptors(),
  });
  const assertionVerifyKeys = required(config, 'JIT_ASSERTION_VERIFY_KEYS');
  let metrics: WorkerMetrics | undefined;
  const { activities, aws, store, close } = await createActivities({
    config,
    engine,
    client,
    auditObserver: (auditStore) => {
      metrics = new WorkerMetrics(engine, auditStore);
      return metrics;
    },
  });
  const workerMetrics = metrics as WorkerMetrics;
  for (const name of Object.keys(activities)) workerMetrics.activityNames.add(name);
  const metricsServer = await startMetricsServer({
    host: config.WORKER_METRICS_HOST,
    port: config.WORKER_METRICS_PORT,
    registry: workerMetrics.registry,
    sdkMetricsUrl: `http://127.0.0.1:${sdkMetricsPort}/metrics`,
  }).catch((err: Error) => {
    // Metrics are not worth refusing to revoke access for: the worker runs, the scrape fails loudly.
    log.error({ err: err.message }, 'the metrics endpoint could not start; /metrics is off');
    return undefined;
  });
  const traced = tracing();
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
      // Tracing's interceptors first, so the metrics interceptor runs inside the activity's span.
      interceptors: {
        activity: [
          ...(traced
            ? [
                (ctx: Parameters<typeof workerMetrics.activityInterceptor>[0]) => ({
                  inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
                  outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
                }),
              ]
            : []),
          workerMetrics.activityInterceptor,
        ],
      },
      // Always registered: a workflow started traced stays traced, whatever this worker's setting.
      tracingSinks: {
        exporter: traced
          ? makeWorkflowExporter(traced.processor, traced.resource)
          : makeWorkflowExporter(new NoopSpanProcessor(), Resource.empty()),
      },
    });
    await startReconciler(client, config.TEMPORAL_TASK_QUEUE, config.JIT_RECONCILE_INTERVAL);
    const identity = await aws.brokerIdentity();
    log.info(
      {
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        aws: identity.arn,
        node: process.version,
        workflowBundle: prebuilt ? 'prebuilt' : 'built at start',
        metrics: metricsServer?.url ?? 'off',
        tracing: traced ? 'on (OTLP)' : 'off',
      },
      'worker started',
    );
    // Resolves after SIGINT/SIGTERM once in-flight tasks are done (the SDK installs the handlers).
    await worker.run();
    log.info('worker stopped');
  } finally {
    await metricsServer?.close();
    await close();
    await tracing()?.shutdown();
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
