// The CLI on a bad network: every POST that changes something carries an Idempotency-Key, and a
// lost answer or a 503 is retried with the same key, so nothing happens twice.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestApi, type TestApi } from './support/api.js';
import { startTestBroker, type TestBroker } from './support/broker.js';
import { type CliUser, cliUser, type JitResult, loginWithCli } from './support/cli.js';
import { distJit } from './support/dist.js';
import { type FlakyProxy, startFlakyProxy } from './support/flaky-proxy.js';

let broker: TestBroker;
let api: TestApi;
let proxy: FlakyProxy;
let alice: CliUser;
let bob: CliUser;
let carol: CliUser;
let grantId: string;

const expectExit = (result: JitResult, code: number, what: string) =>
  assert.equal(
    result.code,
    code,
    `${what}: exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
  );

before(async () => {
  broker = await startTestBroker();
  await broker.startWorker();
  api = await startTestApi(broker);
  proxy = await startFlakyProxy(api.url);
  [alice, bob, carol] = [1, 2, 3].map(() => cliUser(proxy.url, { bin: distJit() })) as [
    CliUser,
    CliUser,
    CliUser,
  ];
  expectExit(await loginWithCli(alice, 'alice'), 0, 'login alice');
  expectExit(await loginWithCli(bob, 'bob'), 0, 'login bob');
  expectExit(await loginWithCli(carol, 'carol'), 0, 'login carol');
});

after(async () => {
  await proxy?.close();
  await api?.close();
  await broker?.close();
});

const keysOf = (method: string, path: RegExp) =>
  proxy.seen.filter((s) => s.method === method && path.test(s.path)).map((s) => s.headers['idempotency-key']);

test('a request whose answer is lost is sent again with the same key: one grant, not two', async () => {
  proxy.once('POST', /^\/v1\/requests$/, 'drop-response');
  const result = await alice.run(
    'request',
    'prod-admin',
    '--for',
    '1h',
    '--reason',
    'INC-77 lost answer',
    '--ticket',
    'INC-77',
    '--json',
  );
  expectExit(result, 0, 'request through a lost answer');
  grantId = JSON.parse(result.stdout).id;
  const keys = keysOf('POST', /^\/v1\/requests$/);
  assert.equal(keys.length, 2, 'sent twice');
  assert.equal(keys[0], keys[1], 'with the same Idempotency-Key');
  // The grant the first attempt made is the one the retry answered with.
  const [lost] = proxy.dropped;
  assert.equal(lost?.status, 202, 'the API made the grant the first time');
  assert.equal(
    JSON.parse(lost?.body ?? '{}').id,
    grantId,
    'the retry found that grant, it made no second one',
  );
});

test('a 503 (API restarting) and a lost answer on approvals: retried, each counted once', async () => {
  proxy.once('POST', /\/approve$/, 'answer-503');
  const first = await bob.run('approve', grantId, '--comment', 'ok');
  expectExit(first, 0, 'approve through a 503');
  assert.match(first.stdout, /pending: approvals 1 of 2/);

  proxy.once('POST', /\/approve$/, 'drop-response');
  const second = await carol.run('approve', grantId);
  expectExit(second, 0, 'approve through a lost answer');
  assert.match(second.stdout, /active, expires in/);

  const keys = keysOf('POST', /\/approve$/);
  assert.equal(keys.length, 4);
  assert.equal(keys[0], keys[1]);
  assert.equal(keys[2], keys[3]);
  assert.notEqual(keys[0], keys[2]);
  const view = await broker.view(broker.client.workflow.getHandle(grantId));
  assert.deepEqual(
    view.approvals.map((a) => a.by),
    ['bob', 'carol'],
  );
});

test('every POST the CLI sends carries its own Idempotency-Key', async () => {
  expectExit(await alice.run('creds', grantId), 0, 'creds');
  expectExit(await alice.run('extend', grantId, '--for', '10m', '--reason', 'more'), 0, 'extend');
  expectExit(await bob.run('revoke', grantId, '--reason', 'done'), 0, 'revoke');
  const posts = proxy.seen.filter((s) => s.method === 'POST');
  for (const post of posts) {
    assert.match(String(post.headers['idempotency-key']), /^jit-[0-9a-f-]{36}$/, `${post.path} has a key`);
  }
  const paths = new Set(posts.map((p) => p.path.split('/').pop()));
  for (const action of ['requests', 'approve', 'credentials', 'extend', 'revoke'])
    assert.ok(paths.has(action), action);
});
