// Tracing first (see instrument.ts); the rest after it.
import './instrument.js';
import { Client, Connection } from '@temporalio/client';
import { DirectoryError, fileDirectory } from '../integrations/directory.js';
import { createSlackClient } from '../integrations/slack/client.js';
import { AssertionSigner } from '../platform/assertion-signer.js';
import { ConfigError, loadConfig, required } from '../platform/config.js';
import { brokerDataConverter } from '../platform/data-converter.js';
import { GrantClient } from '../platform/grant-client.js';
import { announceSigningKey, checkPayloadKeys, KeyMismatchError } from '../platform/key-check.js';
import { createLogger } from '../platform/logger.js';
import type { EncryptionCodec } from '../platform/payload-codec.js';
import { temporalClientInterceptors, tracing } from '../platform/telemetry.js';
import { temporalConnectionOptions } from '../platform/temporal-connection.js';
import { PolicyEngine, PolicyLoadError } from '../policies/engine.js';
import { openAuditStore } from '../store/index.js';
import {
  checkIssuers,
  createAuthenticator,
  defaultPersonIssuer,
  IssuersFileError,
  loadIssuersFile,
} from './auth.js';
import { consoleSettings } from './console/index.js';
import { GrantService } from './grant-service.js';
import { buildServer } from './server.js';

const log = createLogger('api');
/** Longer than the longest request (a decision, 20 s), shorter than an orchestrator's kill (30 s). */
const SHUTDOWN_DEADLINE_MS = 25_000;

async function main(): Promise<void> {
  const config = loadConfig();
  const engine = PolicyEngine.load(config.JIT_POLICY_DIR);
  const connection = await Connection.connect(temporalConnectionOptions(config));
  const client = new Client({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    dataConverter: brokerDataConverter(config.JIT_PAYLOAD_KEYS),
    interceptors: temporalClientInterceptors(),
  });
  const store = await openAuditStore(config.DATABASE_URL);
  const signingKey = required(config, 'JIT_ASSERTION_SIGNING_KEY');
  const signer = new AssertionSigner(signingKey, 'api');
  await checkPayloadKeys(
    store.keys,
    client.options.loadedDataConverter.payloadCodecs[0] as EncryptionCodec,
    config.JIT_PAYLOAD_KEYS,
  );
  await announceSigningKey(store.keys, signingKey);
  const grantClient = new GrantClient({ client, taskQueue: config.TEMPORAL_TASK_QUEUE, signer });
  const issuers = [
    defaultPersonIssuer({
      issuer: config.OIDC_ISSUER,
      audience: config.OIDC_AUDIENCE,
      groupsClaim: config.OIDC_GROUPS_CLAIM,
    }),
    ...(config.JIT_ISSUERS_FILE ? loadIssuersFile(config.JIT_ISSUERS_FILE) : []),
  ];
  const { errors: issuerProblems, warnings } = checkIssuers(
    issuers,
    engine.workloads.all().flatMap((w) => w.tokens.map((t) => ({ workload: w.name, issuer: t.issuer }))),
  );
  if (issuerProblems.length > 0)
    throw new IssuersFileError(`${config.JIT_ISSUERS_FILE ?? 'issuers'}:\n  ${issuerProblems.join('\n  ')}`);
  for (const warning of warnings) log.warn(warning);
  const authenticator = createAuthenticator({
    issuers,
    resolveWorkload: (issuer, attributes) => engine.workloads.forToken(issuer, attributes)?.name,
  });
  const slack =
    config.SLACK_BOT_TOKEN && config.SLACK_SIGNING_SECRET
      ? {
          botToken: config.SLACK_BOT_TOKEN,
          signingSecret: config.SLACK_SIGNING_SECRET,
          client: createSlackClient({ botToken: config.SLACK_BOT_TOKEN, apiUrl: config.SLACK_API_URL }),
          directory: config.JIT_DIRECTORY_FILE
            ? fileDirectory(config.JIT_DIRECTORY_FILE, (err) =>
                log.error({ err: err.message }, 'directory reload failed; keeping the last good copy'),
              )
            : undefined,
        }
      : undefined;
  const webConsole = consoleSettings(config);
  if (slack && !slack.directory) {
    log.warn('Slack is on but JIT_DIRECTORY_FILE is not set: every Slack click will be refused as unmapped');
  }
  const app = await buildServer({
    logger: log,
    authenticator,
    engine,
    store,
    grants: new GrantService({
      grants: grantClient,
      store,
      engine,
      console: {
        federationEndpoint: config.AWS_FEDERATION_ENDPOINT,
        destination: config.AWS_CONSOLE_DESTINATION,
      },
    }),
    ...(slack ? { slack } : {}),
    codec: {
      codec: client.options.loadedDataConverter.payloadCodecs[0] as EncryptionCodec,
      corsOrigins: config.JIT_CODEC_CORS_ORIGINS,
    },
    ...(webConsole ? { console: webConsole } : {}),
    readiness: [
      { name: 'temporal', check: async () => void (await connection.workflowService.getSystemInfo({})) },
      { name: 'audit store', check: () => store.ping() },
      {
        name: 'worker',
        check: async () => {
          if (!(await grantClient.workerPolls())) throw new Error('no worker polls the task queue');
        },
      },
    ],
  });

  // SIGTERM: stop accepting connections; close idle keep-alive connections at once (a client would
  // otherwise reuse them and get 503s from a process on its way out); let in-flight requests finish
  // (decisions answer within 20 s), every connection closing as its response is sent; exit by the
  // deadline whatever is left.
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, deadlineMs: SHUTDOWN_DEADLINE_MS }, 'shutting down: finishing in-flight requests');
    setTimeout(() => {
      log.warn('in-flight requests still running at the shutdown deadline; exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    const server = app.server;
    // A connection whose response went out is closed by the sweep below, not left to idle.
    server.keepAliveTimeout = 1;
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    const closed = app.close();
    server.closeIdleConnections();
    await closed;
    clearInterval(sweep);
    await store.close();
    await connection.close();
    await tracing()?.shutdown();
    log.info('stopped');
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  await authenticator
    .warmUp()
    .catch((err: Error) => log.warn({ err: err.message }, 'OIDC issuer not reachable yet'));
  await app.listen({ host: config.API_HOST, port: config.API_PORT });
  log.info(
    {
      slack: slack ? 'on at /slack/events' : 'off',
      console: webConsole ? `on at ${webConsole.publicUrl}` : 'off (set JIT_CONSOLE_SESSION_KEYS)',
      node: process.version,
      tracing: tracing() ? 'on (OTLP)' : 'off',
    },
    'API listening',
  );
}

main().catch((err: unknown) => {
  if (
    err instanceof ConfigError ||
    err instanceof PolicyLoadError ||
    err instanceof DirectoryError ||
    err instanceof KeyMismatchError ||
    err instanceof IssuersFileError
  ) {
    process.stderr.write(`api: ${err.message}\n`);
  } else {
    log.fatal({ err }, 'api failed');
  }
  process.exit(1);
});
