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
import { temporalConnectionOptions } from '../platform/temporal-connection.js';
import { PolicyEngine, PolicyLoadError } from '../policies/engine.js';
import { openAuditStore } from '../store/index.js';
import { createAuthenticator } from './auth.js';
import { consoleSettings } from './console/index.js';
import { GrantService } from './grant-service.js';
import { buildServer } from './server.js';

const log = createLogger('api');

async function main(): Promise<void> {
  const config = loadConfig();
  const engine = PolicyEngine.load(config.JIT_POLICY_DIR);
  const connection = await Connection.connect(temporalConnectionOptions(config));
  const client = new Client({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    dataConverter: brokerDataConverter(config.JIT_PAYLOAD_KEYS),
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
  const authenticator = createAuthenticator({
    issuer: config.OIDC_ISSUER,
    audience: config.OIDC_AUDIENCE,
    groupsClaim: config.OIDC_GROUPS_CLAIM,
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

  const shutdown = async (signal: string) => {
    log.info({ signal }, 'shutting down');
    await app.close(); // stops accepting, lets in-flight requests finish
    await store.close();
    await connection.close();
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
    },
    'API listening',
  );
}

main().catch((err: unknown) => {
  if (
    err instanceof ConfigError ||
    err instanceof PolicyLoadError ||
    err instanceof DirectoryError ||
    err instanceof KeyMismatchError
  ) {
    process.stderr.write(`api: ${err.message}\n`);
  } else {
    log.fatal({ err }, 'api failed');
  }
  process.exit(1);
});
