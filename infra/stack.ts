// `npm start`: the whole local stack in the foreground; Ctrl-C stops what this run started. The API
// and the worker are restarted when they die (with a backoff; the stack stops after repeated crashes).
// .data/stack.json says where everything listens, for `npm run dev-token` and scripts.

import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FEDERATION_PATH } from './aws/federation.js';
import { seedHandoff } from './aws/handoff.js';
import { startMoto } from './aws/moto.js';
import { seedMoto } from './aws/seed.js';
import {
  type SupervisionHooks,
  startApi,
  startOidcIssuer,
  startQueueDoor,
  startWorker,
} from './broker/processes.js';
import { devAssertionKeys, devConsoleKeys, devPayloadKeys } from './dev-keys.js';
import { CONSOLE_CLIENT_SECRET } from './oidc/console-client.js';
import { writeDevIssuers } from './oidc/dev-clients.js';
import { writeDevDirectory } from './oidc/dev-directory.js';
import { dataDir, ensureDir, logsDir } from './paths.js';
import { PrerequisiteError, type RunningService } from './process.js';
import { type StackInfo, stackFile } from './stack-info.js';
import { startTemporal } from './temporal/server.js';

const host = '127.0.0.1';
const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const ports = {
  api: port('API_PORT', 8080),
  oidc: port('OIDC_PORT', 4444),
  moto: port('MOTO_PORT', 5000),
  temporal: port('TEMPORAL_PORT', 7233),
  temporalUi: port('TEMPORAL_UI_PORT', 8233),
  temporalMetrics: port('TEMPORAL_METRICS_PORT', 8234),
};
const say = (msg: string) => process.stdout.write(`${msg}\n`);
/** Set-up chatter (builds, installs) on its own indented line, never inside the table. */
const progress = (msg: string) => say(`           ${msg}`);

async function main(): Promise<void> {
  const running: RunningService[] = [];
  let stopping = false;
  const stopAll = async (exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    say('\nstopping ...');
    rmSync(stackFile, { force: true });
    for (const service of running.reverse()) await service.stop().catch(() => {});
    process.exit(exitCode);
  };
  process.on('SIGINT', () => void stopAll());
  process.on('SIGTERM', () => void stopAll());

  const up = async (what: string, start: Promise<RunningService>) => {
    const service = await start;
    running.push(service);
    say(
      `${what.padEnd(10)} ${(service.reused ? 'already up' : 'started').padEnd(10)} ${service.uiUrl ?? service.url}`,
    );
    return service;
  };
  const info: StackInfo = { pids: {} } as StackInfo;
  const writeInfo = () => writeFileSync(stackFile, `${JSON.stringify(info, null, 2)}\n`);
  const hooks: SupervisionHooks = {
    say: (line) => say(`[supervisor] ${line}`),
    giveUp: (why) => {
      say(`\n[supervisor] ${why}: stopping the stack.`);
      void stopAll(1);
    },
    onRestart: (name, pid) => {
      if (!stopping && pid) {
        info.pids[name as 'api' | 'worker'] = pid;
        writeInfo();
      }
    },
  };

  try {
    ensureDir(dataDir);
    const temporal = await up(
      'temporal',
      startTemporal({
        host,
        port: ports.temporal,
        uiPort: ports.temporalUi,
        metricsPort: ports.temporalMetrics,
        log: progress,
        codecEndpoint: `http://${host}:${ports.api}/codec`,
      }),
    );
    const moto = await up('moto', startMoto({ host, port: ports.moto, log: progress }));
    const { broker: brokerKey } = await seedMoto(moto.url);
    const handoff = await seedHandoff(moto.url);
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
      JIT_PAYLOAD_KEYS: devPayloadKeys(),
      JIT_CODEC_CORS_ORIGINS: `http://${host}:${ports.temporalUi}`,
      // Both processes get both here for simplicity; in production only front doors hold the signing key.
      JIT_ASSERTION_SIGNING_KEY: devAssertionKeys().signingKey,
      JIT_ASSERTION_VERIFY_KEYS: devAssertionKeys().verificationKey,
      DATABASE_URL: `sqlite:${join(dataDir, 'audit.sqlite')}`,
      // AWS has no console to sign in to here: the dev issuer's process stands in for the federation endpoint.
      AWS_FEDERATION_ENDPOINT: `${oidc.url}${FEDERATION_PATH}`,
      JIT_DIRECTORY_FILE:
        process.env.JIT_DIRECTORY_FILE ?? writeDevDirectory(join(dataDir, 'directory.yaml')),
      // The dev issuer's client-credentials clients (ci-deployer, ai-agent, deploy-runner) are workloads.
      JIT_ISSUERS_FILE:
        process.env.JIT_ISSUERS_FILE ?? writeDevIssuers(join(dataDir, 'issuers.yaml'), oidc.url),
    };
    const slackOn = Boolean(process.env.SLACK_BOT_TOKEN && process.env.SLACK_SIGNING_SECRET);
    const worker = await up(
      'worker',
      startWorker({
        temporalAddress: temporal.url,
        namespace: 'default',
        taskQueue: 'jit-broker',
        env: brokerEnv,
        hooks,
      }),
    );
    // The web console at the API's root URL, signing in through the dev issuer's console client.
    const consoleEnv = {
      JIT_CONSOLE_URL: `${apiUrl}/`,
      JIT_CONSOLE_SESSION_KEYS: devConsoleKeys(),
      JIT_CONSOLE_CLIENT_SECRET: CONSOLE_CLIENT_SECRET,
    };
    const api = await up(
      'api',
      startApi({ host, port: ports.api, env: { ...brokerEnv, ...consoleEnv }, hooks }),
    );
    await up(
      'queue',
      startQueueDoor({
        env: {
          ...brokerEnv,
          JIT_HANDOFF_QUEUE_URL: handoff.queueUrl,
          // Its own least-privilege user, not the worker's.
          AWS_ACCESS_KEY_ID: handoff.door.accessKeyId,
          AWS_SECRET_ACCESS_KEY: handoff.door.secretAccessKey,
        },
      }),
    );

    const temporalUi = temporal.uiUrl ?? `http://${host}:${ports.temporalUi}`;
    const pidOf = (service: RunningService) => (service as { pid?: () => number | undefined }).pid?.();
    Object.assign(info, {
      apiUrl: api.url,
      oidcIssuer: oidc.url,
      temporalAddress: temporal.url,
      temporalUi,
      temporalMetrics: `http://${host}:${ports.temporalMetrics}/metrics`,
      motoUrl: moto.url,
      logs: logsDir,
      node: process.version,
      pids: { api: pidOf(api), worker: pidOf(worker) },
    } satisfies StackInfo);
    writeInfo();

    say(`
jit-broker local stack is up on Node ${process.version} (logs in ${logsDir}).

  Console          ${api.url}/   (sign in as a dev user below; password = user name)
  API              ${api.url}   (health: ${api.url}/readyz)
  Temporal UI      ${temporalUi}   (server metrics: ${info.temporalMetrics})
  OIDC issuer      ${oidc.url}/.well-known/openid-configuration
  AWS (moto)       ${moto.url}
  Slack            ${slackOn ? `on: point the app's interactivity URL at ${api.url}/slack/events` : 'off (README, "Slack approvals")'}

Dev users: alice, erin (engineers), bob, carol (reviewers), dave (auditor).
Open the console above, or point the jit CLI at this stack (once; writes ~/.config/jit/config.json):
  npm run --silent jit -- config set apiUrl ${api.url}
  npm run --silent jit -- config set issuer ${oidc.url}
then \`npm run --silent jit -- login\` (alice / alice), or the same with an installed \`jit\`.
Dev workloads (client credentials): ci-deployer, ai-agent, deploy-runner
  (npm run --silent dev-token -- ci-deployer; README, "Workloads").
Tokens for scripts (README, "Your first grant"):
  ALICE=$(npm run --silent dev-token -- alice)
  curl -s -X POST ${api.url}/v1/requests -H "Authorization: Bearer $ALICE" \\
    -H 'content-type: application/json' \\
    -d '{"role":"prod-readonly","duration":"30m","reason":"look at logs"}'
API reference: ${api.url}/openapi.json
Where everything listens: ${stackFile}

The API and the worker are restarted if they die. Ctrl-C stops everything this command started.`);
  } catch (err) {
    if (err instanceof PrerequisiteError) say(`\n${err.message}`);
    else say(`\nstart-up failed: ${err instanceof Error ? err.message : String(err)}`);
    await stopAll(1);
  }
}

void main();
