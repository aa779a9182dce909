// `npm start`: the whole local stack in the foreground; Ctrl-C stops what this run started.

import { join } from 'node:path';
import { seedHandoff } from './aws/handoff.js';
import { startMoto } from './aws/moto.js';
import { seedMoto } from './aws/seed.js';
import { startApi, startOidcIssuer, startQueueDoor, startWorker } from './broker/processes.js';
import { devAssertionKeys, devPayloadKeys } from './dev-keys.js';
import { writeDevIssuers } from './oidc/dev-clients.js';
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
    const handoff = await seedHandoff(moto.url);
    const oidc = await up('oidc', startOidcIssuer({ host, port: ports.oidc }));

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
      JIT_DIRECTORY_FILE:
        process.env.JIT_DIRECTORY_FILE ?? writeDevDirectory(join(dataDir, 'directory.yaml')),
      // The dev issuer's client-credentials clients (ci-deployer, ai-agent, deploy-runner) are workloads.
      JIT_ISSUERS_FILE:
        process.env.JIT_ISSUERS_FILE ?? writeDevIssuers(join(dataDir, 'issuers.yaml'), oidc.url),
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
    const api = await up('api', startApi({ host, port: ports.api, env: brokerEnv }));
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

    say(`
jit-broker local stack is up (logs in ${logsDir}).

  API              ${api.url}   (health: ${api.url}/readyz)
  Temporal UI      ${temporal.uiUrl ?? `http://${host}:${ports.temporalUi}`}
  OIDC issuer      ${oidc.url}/.well-known/openid-configuration
  AWS (moto)       ${moto.url}
  Slack            ${slackOn ? `on: point the app's interactivity URL at ${api.url}/slack/events` : 'off (README, "Slack approvals")'}

Dev users: alice, erin (engineers), bob, carol (reviewers), dave (auditor).
Dev workloads (client credentials): ci-deployer, ai-agent, deploy-runner
  (npm run --silent dev-token -- ci-deployer; README, "Workloads").
Get an approved grant and credentials (README, "Your first grant"):
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
