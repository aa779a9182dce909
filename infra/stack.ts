// `npm start`: the whole local stack in the foreground; Ctrl-C stops what this run started.

import { join } from 'node:path';
import { FEDERATION_PATH } from './aws/federation.js';
import { startMoto } from './aws/moto.js';
import { seedMoto } from './aws/seed.js';
import { startApi, startOidcIssuer, startWorker } from './broker/processes.js';
import { devAssertionKeys, devConsoleKeys, devPayloadKeys } from './dev-keys.js';
import { CONSOLE_CLIENT_SECRET } from './oidc/console-client.js';
import { writeDevDirectory } from './oidc/dev-directory.js';
import { dataDir, logsDir } from './paths.js';
import { PrerequisiteError, type RunningService } from './process.js';
import { startTemporal } from './temporal/server.js';

// The pinned AWS SDK supports Node 20; its notice about releases after January 2027 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const host = '127.0.0.1';
const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const ports = {
  api: port('API_PORT', 8080),
  oidc: port('OIDC_PORT', 4444),
  moto: port('MOTO_PORT', 5000),
  temporal: port('TEMPORAL_PORT', 7233),
  temporalUi: port('TEMPORAL_UI_PORT', 8233),
};
const say = (msg: string) => process.stdout.write(`${msg}\n`);

async function main(): Promise<void> {
  const running: RunningService[] = [];
  let stopping = false;
  const stopAll = async (exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    say('\nstopping ...');
    for (const service of running.reverse()) await service.stop().catch(() => {});
    process.exit(exitCode);
  };
  process.on('SIGINT', () => void stopAll());
  process.on('SIGTERM', () => void stopAll());

  const up = async (what: string, start: Promise<RunningService>) => {
    process.stdout.write(`${what.padEnd(10)} `);
    const service = await start;
    running.push(service);
    say(`${service.reused ? 'already up' : 'started'}  ${service.uiUrl ?? service.url}`);
    return service;
  };

  try {
    const temporal = await up(
      'temporal',
      startTemporal({ host, port: ports.temporal, uiPort: ports.temporalUi, log: say }),
    );
    const moto = await up('moto', startMoto({ host, port: ports.moto, log: say }));
    const { broker: brokerKey } = await seedMoto(moto.url);
    const oidc = await up('oidc', startOidcIssuer({ host, port: ports.oidc, awsEndpoint: moto.url }));
    const apiUrl = `http://${host}:${ports.api}`;

    const brokerEnv = {
      TEMPORAL_ADDRESS: temporal.url,
      OIDC_ISSUER: oidc.url,
      AWS_ENDPOINT_URL: moto.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: brokerKey.accessKeyId,
      AWS_SECRET_ACCESS_KEY: brokerKey.secretAccessKey,
      API_HOST: host,
      API_PORT: String(ports.api),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      JIT_PAYLOAD_KEYS: devPayloadKeys(),
      // Both processes get both here for simplicity; in production only front doors hold the signing key.
      JIT_ASSERTION_SIGNING_KEY: devAssertionKeys().signingKey,
      JIT_ASSERTION_VERIFY_KEYS: devAssertionKeys().verificationKey,
      DATABASE_URL: `sqlite:${join(dataDir, 'audit.sqlite')}`,
      // AWS has no console to sign in to here: the dev issuer's process stands in for the federation endpoint.
      AWS_FEDERATION_ENDPOINT: `${oidc.url}${FEDERATION_PATH}`,
      JIT_DIRECTORY_FILE:
        process.env.JIT_DIRECTORY_FILE ?? writeDevDirectory(join(dataDir, 'directory.yaml')),
    };
    const slackOn = Boolean(process.env.SLACK_BOT_TOKEN && process.env.SLACK_SIGNING_SECRET);
    await up(
      'worker',
      startWorker({
        temporalAddress: temporal.url,
        namespace: 'default',
        taskQueue: 'jit-broker',
        env: brokerEnv,
      }),
    );
    // The web console at the API's root URL, signing in through the dev issuer's console client.
    const consoleEnv = {
      JIT_CONSOLE_URL: `${apiUrl}/`,
      JIT_CONSOLE_SESSION_KEYS: devConsoleKeys(),
      JIT_CONSOLE_CLIENT_SECRET: CONSOLE_CLIENT_SECRET,
    };
    const api = await up('api', startApi({ host, port: ports.api, env: { ...brokerEnv, ...consoleEnv } }));

    say(`
jit-broker local stack is up (logs in ${logsDir}).

  Console          ${api.url}/   (sign in as a dev user below; password = user name)
  API              ${api.url}   (health: ${api.url}/readyz)
  Temporal UI      ${temporal.uiUrl ?? `http://${host}:${ports.temporalUi}`}
  OIDC issuer      ${oidc.url}/.well-known/openid-configuration
  AWS (moto)       ${moto.url}
  Slack            ${slackOn ? `on: point the app's interactivity URL at ${api.url}/slack/events` : 'off (README, "Slack approvals")'}

Dev users: alice, erin (engineers), bob, carol (reviewers), dave (auditor).
Open the console, or from a terminal (README, "Your first grant"):
  ALICE=$(npm run --silent dev-token -- alice)
  curl -s -X POST ${api.url}/v1/requests -H "Authorization: Bearer $ALICE" \\
    -H 'content-type: application/json' \\
    -d '{"role":"prod-readonly","duration":"30m","reason":"look at logs"}'
  curl -s -X POST ${api.url}/v1/requests/<id>/credentials -H "Authorization: Bearer $ALICE"
API reference: ${api.url}/openapi.json

Ctrl-C stops everything this command started.`);
  } catch (err) {
    if (err instanceof PrerequisiteError) say(`\n${err.message}`);
    else say(`\nstart-up failed: ${err instanceof Error ? err.message : String(err)}`);
    await stopAll(1);
  }
}

void main();
