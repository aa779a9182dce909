// The codec server: operators read decoded payloads (here through the real `temporal` CLI); nobody
// else does, and nothing encodes.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { ensureTemporalCli } from '../infra/temporal/cli.js';
import { startTestApi, type TestApi } from './support/api.js';
import { startTestBroker, type TestBroker } from './support/broker.js';
import { testStack } from './support/stack.js';

let broker: TestBroker;
let api: TestApi;
let grantId: string;

before(async () => {
  broker = await startTestBroker();
  await broker.startWorker();
  api = await startTestApi(broker);
  const grant = await broker.request('alice', 'prod-readonly', {
    durationSeconds: 600,
    reason: 'codec-server-marker-reason',
  });
  grantId = grant.workflowId;
});
after(async () => {
  await api.close();
  await broker.close();
});

// Asynchronous: the API that serves the codec runs in this very process.
const run = (args: string[]) =>
  promisify(execFile)(ensureTemporalCli(), args, { encoding: 'utf8' }).then(
    ({ stdout }) => ({ status: 0, stdout }),
    (err: { code?: number; stdout?: string }) => ({ status: err.code ?? 1, stdout: err.stdout ?? '' }),
  );

function show(auth?: string): Promise<{ status: number; stdout: string }> {
  return run([
    'workflow',
    'show',
    '--address',
    testStack().temporalAddress,
    '--workflow-id',
    grantId,
    '--output',
    'json',
    '--codec-endpoint',
    `${api.url}/codec`,
    ...(auth ? ['--codec-auth', auth] : []),
  ]);
}

/** The first input payload of the grant's start, as the temporal CLI printed it. */
function startInput(stdout: string): { encoding: string; data: string } {
  const history = JSON.parse(stdout) as {
    events: {
      workflowExecutionStartedEventAttributes?: {
        input: { payloads: { metadata: { encoding: string }; data: string }[] };
      };
    }[];
  };
  const payload = history.events[0]?.workflowExecutionStartedEventAttributes?.input.payloads[0];
  assert.ok(payload);
  const text = (b64: string) => Buffer.from(b64, 'base64').toString();
  return { encoding: text(payload.metadata.encoding), data: text(payload.data) };
}

test('an auditor sees decoded payloads in the temporal CLI; without the codec they stay encrypted', async () => {
  const token = await api.token('dave');
  const decoded = await show(`Bearer ${token}`);
  assert.equal(decoded.status, 0);
  const input = startInput(decoded.stdout);
  assert.equal(input.encoding, 'json/plain');
  assert.match(input.data, /codec-server-marker-reason/);

  const raw = await run([
    'workflow',
    'show',
    '--address',
    testStack().temporalAddress,
    '--workflow-id',
    grantId,
    '--output',
    'json',
  ]);
  assert.equal(raw.status, 0);
  const encrypted = startInput(raw.stdout);
  assert.equal(encrypted.encoding, 'binary/encrypted');
  assert.doesNotMatch(encrypted.data, /codec-server-marker-reason/);
});

test('others get nothing: an engineer 403, no token 401; there is no encode endpoint', async () => {
  const history = await broker.client.workflow.getHandle(grantId).fetchHistory();
  const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  assert.ok(input);
  const body = {
    payloads: [
      {
        metadata: Object.fromEntries(
          Object.entries(input.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
        ),
        data: Buffer.from(input.data ?? []).toString('base64'),
      },
    ],
  };
  const asAlice = await api.call('POST', '/codec/decode', { user: 'alice', body });
  assert.equal(asAlice.status, 403);
  assert.equal(asAlice.body.error.code, 'forbidden');
  const anonymous = await api.call('POST', '/codec/decode', { body });
  assert.equal(anonymous.status, 401);
  const asDave = await api.call('POST', '/codec/decode', { user: 'dave', body });
  assert.equal(asDave.status, 200);
  assert.match(Buffer.from(asDave.body.payloads[0].data, 'base64').toString(), /codec-server-marker-reason/);
  const encode = await api.call('POST', '/codec/encode', { user: 'dave', body });
  assert.equal(encode.status, 404);
});

test('a plaintext payload is not echoed back as decoded: it comes back as a refusal', async () => {
  const body = {
    payloads: [
      {
        metadata: { encoding: Buffer.from('json/plain').toString('base64') },
        data: Buffer.from('{"forged":true}').toString('base64'),
      },
    ],
  };
  const res = await api.call('POST', '/codec/decode', { user: 'dave', body });
  assert.equal(res.status, 200);
  const data = Buffer.from(res.body.payloads[0].data, 'base64').toString();
  assert.match(data, /payload_not_encrypted/);
  assert.doesNotMatch(data, /forged/);
});

test('CORS: the Temporal UI origin may call it, another origin may not', async () => {
  const preflight = (origin: string) =>
    fetch(`${api.url}/codec/decode`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
  const ui = await preflight('http://127.0.0.1:8233');
  assert.equal(ui.headers.get('access-control-allow-origin'), 'http://127.0.0.1:8233');
  const evil = await preflight('https://evil.example');
  assert.equal(evil.headers.get('access-control-allow-origin'), null);
});
