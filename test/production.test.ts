// The production start: the API and the worker run from dist/ (npm run build) with plain `node`, no
// tsx and no TypeScript sources, the worker from the prebuilt workflow bundle and the shipped policy
// folder. A grant goes through the HTTP API; then both processes get SIGTERM while a request is in
// flight, and nothing is lost: the request finishes, the grants are all there after the restart.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { deviceLogin } from '../infra/oidc/device-login.js';
import { freePort } from '../infra/process.js';
import { eventually } from './support/assertions.js';
import type { DevUserName } from './support/broker.js';
import { distDir, distFile } from './support/dist.js';
import {
  testPayloadKeys,
  testSigningKey,
  testStack,
  testVerifyKeys,
  uniqueTaskQueue,
} from './support/stack.js';

interface Started {
  child: ChildProcess;
  /** Every log line so far (pino JSON, one object per line). */
  lines: () => Record<string, unknown>[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The end of what it printed, for failure messages. */
  tail: () => string;
}

const stack = testStack();
const scratch = mkdtempSync(join(tmpdir(), 'jit-production-'));
const started: Started[] = [];
let env: NodeJS.ProcessEnv;
let apiUrl: string;
const tokens = new Map<DevUserName, string>();

function startFromDist(entry: 'api/main.js' | 'worker/main.js'): Started {
  // Plain node: no --import tsx, nothing from the sources' folders.
  const child = spawn(process.execPath, [distFile(entry)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const lines = () =>
    text.split('\n').flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  const result = { child, lines, exited, tail: () => text.slice(-4000) };
  started.push(result);
  return result;
}

const logged = (process: Started, msg: string) =>
  eventually(`"${msg}" in the log`, async () => process.lines().find((l) => l.msg === msg), 90_000).catch(
    (error: Error) => {
      // What the process said instead is the first thing anyone debugging this needs.
      throw new Error(`${error.message}; the process printed:\n${process.tail()}`);
    },
  );

async function token(user: DevUserName): Promise<string> {
  let t = tokens.get(user);
  if (!t) {
    t = (await deviceLogin({ issuer: stack.oidcIssuer, user })).access_token;
    tokens.set(user, t);
  }
  return t;
}

async function call(user: DevUserName, method: string, path: string, body?: unknown) {
  const res = await fetch(`${apiUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${await token(user)}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

before(async () => {
  const port = await freePort();
  apiUrl = `http://127.0.0.1:${port}`;
  env = {
    PATH: process.env.PATH,
    NODE_ENV: 'development',
    LOG_LEVEL: 'info',
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TEMPORAL_TASK_QUEUE: uniqueTaskQueue('production'),
    OIDC_ISSUER: stack.oidcIssuer,
    API_HOST: '127.0.0.1',
    API_PORT: String(port),
    AWS_REGION: stack.region,
    AWS_ENDPOINT_URL: stack.motoUrl,
    AWS_ACCESS_KEY_ID: stack.broker.accessKeyId,
    AWS_SECRET_ACCESS_KEY: stack.broker.secretAccessKey,
    JIT_PAYLOAD_KEYS: testPayloadKeys,
    JIT_ASSERTION_SIGNING_KEY: testSigningKey,
    JIT_ASSERTION_VERIFY_KEYS: testVerifyKeys,
    DATABASE_URL: `sqlite:${join(scratch, 'audit.sqlite')}`,
    // A free port: test files run side by side.
    WORKER_METRICS_PORT: '0',
    // No JIT_POLICY_DIR: dist/ must find its own policy folder.
  };
});

after(() => {
  for (const { child } of started) child.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
});

let grantId: string;
let pendingId: string;
let worker: Started;
let api: Started;

test('dist/ holds JavaScript and data only, no TypeScript', () => {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
    );
  const files = walk(distDir);
  assert.deepEqual(
    files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')),
    [],
  );
  for (const file of ['api/main.js', 'worker/main.js', 'worker/workflow-bundle.js', 'cli/jit.mjs'])
    distFile(file);
  for (const file of ['policies.cedar', 'schema.cedarschema', 'catalog.yaml'])
    distFile(join('policies', file));
});

test('the worker and the API start from dist/ on Node 24 and serve a grant', {
  timeout: 180_000,
}, async () => {
  worker = startFromDist('worker/main.js');
  const workerStarted = await logged(worker, 'worker started');
  assert.equal(workerStarted.workflowBundle, 'prebuilt', 'no webpack at start');
  assert.match(String(workerStarted.node), /^v24\./);

  api = startFromDist('api/main.js');
  const listening = await logged(api, 'API listening');
  assert.match(String(listening.node), /^v24\./);
  await eventually('the API to be ready', async () => (await fetch(`${apiUrl}/readyz`)).ok || undefined);
  // What an operator sees on /metrics.
  const metrics = await (await fetch(`${apiUrl}/metrics`)).text();
  assert.match(metrics, /nodejs_version_info\{version="v24\./);

  const roles = await call('alice', 'GET', '/v1/roles');
  assert.deepEqual(roles.body.roles.map((r: { id: string }) => r.id).sort(), ['prod-admin', 'prod-readonly']);

  const created = await call('alice', 'POST', '/v1/requests', {
    role: 'prod-readonly',
    duration: '1h',
    reason: 'production start test',
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  grantId = created.body.id;
  const creds = await call('alice', 'POST', `/v1/requests/${grantId}/credentials`);
  assert.equal(creds.status, 200, JSON.stringify(creds.body));
  assert.equal(creds.body.Version, 1);

  const pending = await call('alice', 'POST', '/v1/requests', {
    role: 'prod-admin',
    duration: '30m',
    reason: 'INC-7 across a restart',
    ticket: 'INC-7',
  });
  assert.equal(pending.status, 202, JSON.stringify(pending.body));
  pendingId = pending.body.id;
});

test('SIGTERM with a request in flight: idle connections close at once, the request finishes, nothing is lost', {
  timeout: 180_000,
}, async () => {
  assert.ok(api && worker, 'the previous test started both');
  // An idle keep-alive connection, as a load balancer or a busy client holds them.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const idle = await new Promise<{ closed: Promise<number> }>((resolve, reject) => {
    const req = httpRequest(`${apiUrl}/healthz`, { agent }, (res) => {
      res.resume();
      res.on('end', () =>
        // Wrapped: a promise resolved with a promise would wait for it.
        resolve({ closed: new Promise((closed) => req.socket?.once('close', () => closed(Date.now()))) }),
      );
    });
    req.on('error', reject);
    req.end();
  });

  // The worker drains and stops; a credentials request then waits in the API for a worker.
  worker.child.kill('SIGTERM');
  assert.deepEqual(await worker.exited, { code: 0, signal: null }, 'the worker drains and exits 0');
  const inFlight = call('alice', 'POST', `/v1/requests/${grantId}/credentials`);
  await new Promise((resolve) => setTimeout(resolve, 1000));

  const sigterm = Date.now();
  api.child.kill('SIGTERM');
  const closedAt = await idle.closed;
  assert.ok(closedAt - sigterm < 2000, `the idle connection closed ${closedAt - sigterm} ms after SIGTERM`);
  await eventually('new connections refused', async () =>
    fetch(`${apiUrl}/healthz`).then(
      () => undefined,
      () => true,
    ),
  );

  // A new worker takes the task: the old API answers its in-flight request, then exits.
  worker = startFromDist('worker/main.js');
  const answer = await inFlight;
  const answeredAt = Date.now();
  assert.equal(answer.status, 200, `the in-flight request: ${JSON.stringify(answer.body)}`);
  assert.equal(answer.body.Version, 1);
  assert.deepEqual(await api.exited, { code: 0, signal: null }, 'the API finishes and exits 0');
  // Not held open by the connection that carried the answer (keep-alive would keep it 72 s).
  const lingered = Date.now() - answeredAt;
  assert.ok(lingered < 5000, `the API exited ${lingered} ms after its last answer`);
  agent.destroy();

  api = startFromDist('api/main.js');
  await eventually('the new API to be ready', async () =>
    fetch(`${apiUrl}/readyz`).then(
      (r) => r.ok || undefined,
      () => undefined,
    ),
  );
  const view = await call('alice', 'GET', `/v1/requests/${grantId}`);
  assert.equal(view.body.status, 'active');
  assert.equal(view.body.sessions.length, 2, 'both credential sessions are on the grant');

  // The request left pending before the restart is decided after it.
  assert.equal((await call('bob', 'POST', `/v1/requests/${pendingId}/approve`, {})).status, 200);
  const approved = await call('carol', 'POST', `/v1/requests/${pendingId}/approve`, {});
  assert.equal(approved.status, 200, JSON.stringify(approved.body));
  assert.equal(approved.body.status, 'active');
});
