// Observability as an operator gets it: the API and the worker run from dist/ as in production,
// exporting traces to an OTLP/HTTP receiver on loopback (this file's own, decoding what the SDK
// sends). Grants go through the HTTP API; then one trace covers the HTTP request, the workflow,
// the assumeRole activity and its STS call, with the grant id; no secret is in any span or log;
// /metrics of the worker counts every transition exactly once, and the API's shows the grants;
// every metric the shipped Grafana dashboard and Prometheus alert rules use is really exported.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Resource } from '@opentelemetry/resources';
import { NoopSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { makeWorkflowExporter } from '@temporalio/interceptors-opentelemetry/lib/worker/index.js';
import { Worker } from '@temporalio/worker';
import { parse } from 'yaml';
import { deviceLogin } from '../infra/oidc/device-login.js';
import { repoRoot } from '../infra/paths.js';
import { freePort } from '../infra/process.js';
import { eventually } from './support/assertions.js';
import { type DevUserName, startTestBroker, type TestBroker } from './support/broker.js';
import { distFile } from './support/dist.js';
import {
  testDataConverter,
  testPayloadKeys,
  testSigningKey,
  testStack,
  testVerifyKeys,
} from './support/stack.js';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  service: string;
  attributes: Record<string, unknown>;
}

interface Started {
  child: ChildProcess;
  output: () => string;
  lines: () => Record<string, unknown>[];
}

const stack = testStack();
const started: Started[] = [];
const bodies: string[] = [];
const spans: OtlpSpan[] = [];
let receiver: Server;
let broker: TestBroker;
let apiUrl: string;
let workerMetricsUrl: string;
const tokens = new Map<DevUserName, string>();
/** Everything secret the run handles: none of it may reach a span or a log line. */
const secrets: string[] = [];
const REASON = 'observability-test reason canary 7f3a';

/** OTLP/JSON attribute values: {stringValue}, {intValue}, {boolValue}, {doubleValue}, {arrayValue}. */
function attributeValue(value: Record<string, unknown>): unknown {
  if ('stringValue' in value) return value.stringValue;
  if ('intValue' in value) return Number(value.intValue);
  if ('doubleValue' in value) return value.doubleValue;
  if ('boolValue' in value) return value.boolValue;
  return JSON.stringify(value);
}

function attributes(list: { key: string; value: Record<string, unknown> }[] = []): Record<string, unknown> {
  return Object.fromEntries(list.map((a) => [a.key, attributeValue(a.value)]));
}

/** A minimal OTLP/HTTP receiver (JSON encoding, what the exporter sends by default). */
async function startReceiver(): Promise<string> {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (req.url === '/v1/traces' && req.method === 'POST') {
        bodies.push(text);
        const body = JSON.parse(text) as {
          resourceSpans: {
            resource: { attributes: { key: string; value: Record<string, unknown> }[] };
            scopeSpans: { spans: (Omit<OtlpSpan, 'attributes' | 'service'> & { attributes: never[] })[] }[];
          }[];
        };
        for (const rs of body.resourceSpans) {
          const service = String(attributes(rs.resource.attributes)['service.name']);
          for (const ss of rs.scopeSpans)
            for (const s of ss.spans)
              spans.push({ ...s, service, attributes: attributes(s.attributes) } as OtlpSpan);
        }
      }
      res.setHeader('content-type', 'application/json');
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
}

function startFromDist(entry: 'api/main.js' | 'worker/main.js', env: NodeJS.ProcessEnv): Started {
  const child = spawn(process.execPath, [distFile(entry)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout?.on('data', (c: Buffer) => {
    text += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    text += c.toString();
  });
  const lines = () =>
    text.split('\n').flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  const result = { child, output: () => text, lines };
  started.push(result);
  return result;
}

const logged = (process: Started, msg: string) =>
  eventually(`"${msg}" in the log`, async () => process.lines().find((l) => l.msg === msg), 90_000).catch(
    (error: Error) => {
      throw new Error(`${error.message}; the process printed:\n${process.output().slice(-4000)}`);
    },
  );

async function token(user: DevUserName): Promise<string> {
  let t = tokens.get(user);
  if (!t) {
    t = (await deviceLogin({ issuer: stack.oidcIssuer, user })).access_token;
    tokens.set(user, t);
    secrets.push(t);
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

/** Prometheus text: sample name with its labels, to value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m) out.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return out;
}
const sampleNames = (text: string) => new Set([...samples(text).keys()].map((k) => k.replace(/\{.*$/, '')));

before(async () => {
  const otlp = await startReceiver();
  broker = await startTestBroker();
  const port = await freePort();
  apiUrl = `http://127.0.0.1:${port}`;
  secrets.push(stack.broker.secretAccessKey, testSigningKey.split(':')[1] as string);
  for (const key of testPayloadKeys.split(',')) secrets.push(key.split(':')[1] as string);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    NODE_ENV: 'development',
    LOG_LEVEL: 'info',
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TEMPORAL_TASK_QUEUE: broker.taskQueue,
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
    JIT_POLICY_DIR: broker.policyDir,
    DATABASE_URL: broker.auditDatabaseUrl,
    WORKER_METRICS_PORT: '0',
    // The standard variables, nothing broker-specific: tracing is on because an endpoint is set.
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp,
    OTEL_BSP_SCHEDULE_DELAY: '200',
  };
  const worker = startFromDist('worker/main.js', env);
  const workerStarted = await logged(worker, 'worker started');
  assert.equal(workerStarted.tracing, 'on (OTLP)');
  workerMetricsUrl = String(workerStarted.metrics);
  const api = startFromDist('api/main.js', env);
  assert.equal((await logged(api, 'API listening')).tracing, 'on (OTLP)');
  await eventually(
    'the API to be ready',
    async () => (await fetch(`${apiUrl}/readyz`)).ok || undefined,
    60_000,
  );
});

after(async () => {
  for (const { child } of started) child.kill('SIGKILL');
  await new Promise((resolve) => receiver?.close(resolve));
  await broker?.close();
});

let adminId: string;
let readonlyId: string;
let deniedId: string;

test('a lifecycle through the API: approved, active, credentials, revoked; auto-approved and expired; denied', {
  timeout: 120_000,
}, async () => {
  const admin = await call('alice', 'POST', '/v1/requests', {
    role: 'prod-admin',
    duration: '30m',
    reason: REASON,
    ticket: 'INC-900',
  });
  assert.equal(admin.status, 202, JSON.stringify(admin.body));
  adminId = admin.body.id;
  assert.equal((await call('bob', 'POST', `/v1/requests/${adminId}/approve`, {})).status, 200);
  const active = await call('carol', 'POST', `/v1/requests/${adminId}/approve`, {});
  assert.equal(active.body.status, 'active', JSON.stringify(active.body));
  const adminCreds = await call('alice', 'POST', `/v1/requests/${adminId}/credentials`);
  assert.equal(adminCreds.status, 200, JSON.stringify(adminCreds.body));
  secrets.push(adminCreds.body.SecretAccessKey, adminCreds.body.SessionToken);
  const revoked = await call('alice', 'POST', `/v1/requests/${adminId}/revoke`, { reason: REASON });
  assert.equal(revoked.body.status, 'revoked', JSON.stringify(revoked.body));

  const readonly = await call('alice', 'POST', '/v1/requests', {
    role: 'prod-readonly',
    duration: '3s',
    reason: REASON,
  });
  assert.equal(readonly.status, 201, JSON.stringify(readonly.body));
  readonlyId = readonly.body.id;
  const creds = await call('alice', 'POST', `/v1/requests/${readonlyId}/credentials`);
  assert.equal(creds.status, 200, JSON.stringify(creds.body));
  secrets.push(creds.body.SecretAccessKey, creds.body.SessionToken);

  const denied = await call('alice', 'POST', '/v1/requests', {
    role: 'prod-admin',
    duration: '1h',
    reason: REASON,
    ticket: 'INC-901',
  });
  deniedId = denied.body.id;
  assert.equal((await call('bob', 'POST', `/v1/requests/${deniedId}/deny`, { reason: REASON })).status, 200);

  await eventually(
    'the short grant to expire',
    async () =>
      (await call('alice', 'GET', `/v1/requests/${readonlyId}`)).body.status === 'expired' || undefined,
    30_000,
  );
});

test("the worker's /metrics counts every transition once; the API's shows the grants", {
  timeout: 60_000,
}, async () => {
  const expected: Record<string, Record<string, number>> = {
    'prod-admin': { requested: 2, approved: 1, activated: 1, revoked: 1, denied: 1 },
    'prod-readonly': { requested: 1, approved: 1, activated: 1, expired: 1 },
  };
  // The ledger entry for the expired grant's live session comes just after the expiry.
  const worker = await eventually(
    'the ledger entry in the metrics',
    async () => {
      const text = await (await fetch(workerMetricsUrl)).text();
      return /jit_ledger_entries_total\{role="prod-readonly",change="added"\} 1/.test(text)
        ? text
        : undefined;
    },
    20_000,
  );
  const values = samples(worker);
  for (const [role, counts] of Object.entries(expected)) {
    for (const transition of [
      'requested',
      'approved',
      'denied',
      'cancelled',
      'timed_out',
      'activated',
      'extended',
      'expired',
      'revoked',
      'failed',
    ]) {
      assert.equal(
        values.get(`jit_grant_transitions_total{transition="${transition}",role="${role}"}`),
        counts[transition] ?? 0,
        `${role} ${transition}`,
      );
    }
    assert.equal(values.get(`jit_credentials_issued_total{role="${role}"}`), 1, `${role} credentials`);
  }
  assert.equal(values.get('jit_grant_decision_seconds_count{role="prod-admin",outcome="approved"}'), 1);
  assert.equal(values.get('jit_grant_decision_seconds_count{role="prod-admin",outcome="denied"}'), 1);
  assert.equal(values.get('jit_grant_activation_seconds_count{role="prod-readonly"}'), 1);
  assert.equal(values.get('jit_grant_expiry_lag_seconds_count{role="prod-readonly"}'), 1);
  assert.equal(values.get('jit_ledger_deny_lag_seconds_count{role="prod-readonly"}'), 1);
  assert.ok((values.get('jit_ledger_policy_chars{role="prod-readonly"}') ?? 0) > 0);
  assert.ok((values.get('jit_audit_append_seconds_count{outcome="ok"}') ?? 0) > 0);
  // The Temporal SDK's own worker metrics come on the same endpoint.
  for (const name of ['temporal_worker_task_slots_available', 'temporal_sticky_cache_size'])
    assert.ok(sampleNames(worker).has(name), `${name} on the worker's /metrics`);
  assert.ok(
    [...sampleNames(worker)].some((n) => n.startsWith('temporal_workflow_task_schedule_to_start_latency')),
  );
  // No grant id, user or reason in any label.
  for (const text of [adminId, readonlyId, 'alice', REASON]) assert.ok(!worker.includes(text), text);

  const api = samples(await (await fetch(`${apiUrl}/metrics`)).text());
  assert.equal(api.get('jit_grants{status="revoked"}'), 1);
  assert.equal(api.get('jit_grants{status="expired"}'), 1);
  assert.equal(api.get('jit_grants{status="denied"}'), 1);
  assert.equal(api.get('jit_http_requests_total{method="POST",route="/v1/requests",status="201"}'), 1);
  assert.equal(api.get('jit_http_requests_total{method="POST",route="/v1/requests",status="202"}'), 2);
});

test('one trace covers the HTTP request, the workflow, assumeRole and the STS call, with the grant id', {
  timeout: 60_000,
}, async () => {
  const trace = await eventually(
    'the credentials trace',
    async () => {
      const http = spans.find(
        (s) =>
          s.service === 'jit-broker-api' &&
          s.name === 'POST /v1/requests/:id/credentials' &&
          s.attributes['jit.grant_id'] === readonlyId,
      );
      if (!http) return undefined;
      const same = spans.filter((s) => s.traceId === http.traceId);
      const has = (test: (s: OtlpSpan) => boolean) => same.some(test);
      return has((s) => s.service === 'jit-broker-worker' && s.name.startsWith('RunActivity:assumeRole')) &&
        has((s) => s.name === 'STS.AssumeRole')
        ? { http, same }
        : undefined;
    },
    30_000,
  );
  const names = trace.same.map((s) => `${s.service} ${s.name}`);
  assert.ok(
    names.some((n) => /jit-broker-worker (HandleUpdate|RunWorkflow):/.test(n)),
    names.join('\n'),
  );
  assert.equal(trace.http.attributes['jit.role'], 'prod-readonly');
  assert.equal(trace.http.attributes['jit.outcome'], 'credentials_issued');
  const activity = trace.same.find((s) => s.name.startsWith('RunActivity:assumeRole'));
  assert.equal(activity?.attributes['jit.grant_id'], readonlyId);
  // Every span has its parent in the trace, up to the HTTP request.
  const ids = new Set(trace.same.map((s) => s.spanId));
  for (const s of trace.same)
    if (s !== trace.http) assert.ok(s.parentSpanId && ids.has(s.parentSpanId), s.name);

  // The request's own trace: the grant's id, role and outcome on the HTTP span.
  const start = spans.find((s) => s.name === 'POST /v1/requests' && s.attributes['jit.grant_id'] === adminId);
  assert.equal(start?.attributes['jit.outcome'], 'pending');
  assert.equal(start?.attributes['jit.role'], 'prod-admin');
});

test("a traced grant's history replays with the shipped workflow bundle", { timeout: 60_000 }, async () => {
  const history = await broker.client.workflow.getHandle(adminId).fetchHistory();
  const result = await Worker.runReplayHistory(
    {
      workflowBundle: { code: readFileSync(distFile('worker/workflow-bundle.js'), 'utf8') },
      dataConverter: testDataConverter(),
      sinks: { exporter: makeWorkflowExporter(new NoopSpanProcessor(), Resource.empty()) },
    },
    history,
    adminId,
  ).then(
    () => undefined,
    (err: Error) => err,
  );
  assert.equal(result, undefined, String(result));
});

test('no secret in any span or log line; log lines about a grant carry its id and trace id', async () => {
  const exported = bodies.join('\n');
  assert.ok(exported.length > 0);
  for (const secret of secrets) {
    assert.ok(secret && secret.length > 8);
    assert.ok(!exported.includes(secret), 'a secret in an exported span');
    for (const process of started) assert.ok(!process.output().includes(secret), 'a secret in a log line');
  }
  assert.ok(!exported.includes(REASON), 'a reason in an exported span');

  const api = started[1] as Started;
  const completed = api.lines().find((l) => l.msg === 'request completed' && l.grant_id === adminId);
  assert.ok(completed, 'the API logs the request with the grant id');
  assert.match(String(completed.trace_id), /^[0-9a-f]{32}$/);
  assert.ok(
    spans.some((s) => s.traceId === completed.trace_id),
    'the log names an exported trace',
  );
});

test('every metric the Grafana dashboard and the alert rules use is exported by the API or the worker', {
  timeout: 60_000,
}, async () => {
  // A workflow type this worker does not know fails its workflow tasks, as a bad deploy would:
  // the SDK's failure counter exists only once something failed.
  const unknown = await broker.client.workflow.start('workflowThisWorkerDoesNotKnow', {
    taskQueue: broker.taskQueue,
    workflowId: `unknown-${Date.now()}`,
  });
  await eventually(
    "a workflow task failure on the worker's /metrics",
    async () =>
      (await (await fetch(workerMetricsUrl)).text()).includes('temporal_workflow_task_execution_failed') ||
      undefined,
    30_000,
  );
  await unknown.terminate('test done');
  const exported = new Set([
    ...sampleNames(await (await fetch(`${apiUrl}/metrics`)).text()),
    ...sampleNames(await (await fetch(workerMetricsUrl)).text()),
  ]);
  const dir = join(repoRoot, 'infra/observability');
  const expressions: { where: string; expr: string }[] = [];
  for (const file of readdirSync(join(dir, 'grafana')).filter((f) => f.endsWith('.json'))) {
    const dashboard = JSON.parse(readFileSync(join(dir, 'grafana', file), 'utf8')) as {
      panels: { title: string; targets?: { expr: string }[] }[];
    };
    assert.ok(dashboard.panels.length > 0);
    for (const panel of dashboard.panels) {
      assert.ok(panel.targets && panel.targets.length > 0, `panel "${panel.title}" has a query`);
      for (const t of panel.targets) expressions.push({ where: `${file}: ${panel.title}`, expr: t.expr });
    }
  }
  const rules = parse(readFileSync(join(dir, 'prometheus/alerts.yaml'), 'utf8')) as {
    groups: { rules: { alert: string; expr: string }[] }[];
  };
  const alerts = rules.groups.flatMap((g) => g.rules);
  for (const rule of alerts) expressions.push({ where: `alert ${rule.alert}`, expr: String(rule.expr) });
  for (const wanted of [
    'JitGrantsStuckPending',
    'JitExpiryLag',
    'JitDenyLedgerNearLimit',
    'JitDenyLedgerOverflow',
    'JitAuditChainBroken',
    'JitSlackBacklogGrowing',
    'JitWorkflowTaskFailures',
    'JitWorkerScheduleToStartLatency',
  ])
    assert.ok(
      alerts.some((r) => r.alert === wanted),
      `alert ${wanted}`,
    );

  for (const { where, expr } of expressions) {
    const names = expr.match(/\b(jit|temporal|nodejs|process)_[a-zA-Z0-9_]+/g) ?? [];
    assert.ok(names.length > 0, `${where} uses a metric`);
    for (const name of names) assert.ok(exported.has(name), `${where}: ${name} is not exported`);
  }
});
