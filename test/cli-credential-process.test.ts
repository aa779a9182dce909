// `jit creds` as the AWS CLI uses it: the bundled CLI (dist/cli/jit.mjs) as `credential_process` of a
// profile, the real AWS CLI (from PyPI) calling it for every command against moto. The cache must keep
// that to one STS session; revocation must still win.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startTestApi, type TestApi } from './support/api.js';
import { ensureAwsCli } from './support/awscli.js';
import { startTestBroker, type TestBroker } from './support/broker.js';
import { type CliUser, cliUser, type JitResult, loginWithCli } from './support/cli.js';
import { distJit } from './support/dist.js';
import { type FlakyProxy, startFlakyProxy } from './support/flaky-proxy.js';
import { testStack } from './support/stack.js';

let broker: TestBroker;
let api: TestApi;
let proxy: FlakyProxy;
let alice: CliUser;
let bob: CliUser;
let aws: string;
let grantId: string;
const role = 'prod-readonly';
const stack = testStack();

const expectExit = (result: JitResult, code: number, what: string) =>
  assert.equal(
    result.code,
    code,
    `${what}: exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
  );

before(async () => {
  aws = ensureAwsCli();
  broker = await startTestBroker();
  await broker.startWorker();
  api = await startTestApi(broker);
  proxy = await startFlakyProxy(api.url);
  // No JIT_* variables: the settings come from `jit config set`, as on a person's machine.
  const opts = { bin: distJit(), env: {} };
  alice = cliUser(proxy.url, opts);
  bob = cliUser(proxy.url, opts);
  for (const [user, name] of [
    [alice, 'alice'],
    [bob, 'bob'],
  ] as const) {
    expectExit(await user.run('config', 'set', 'apiUrl', proxy.url), 0, 'config set apiUrl');
    expectExit(await user.run('config', 'set', 'issuer', stack.oidcIssuer), 0, 'config set issuer');
    expectExit(await loginWithCli(user, name), 0, `login ${name}`);
  }
  const requested = await alice.run('request', role, '--for', '1h', '--reason', 'AWS CLI test', '--json');
  expectExit(requested, 0, 'request');
  grantId = JSON.parse(requested.stdout).id;
  // The AWS CLI's profile: what a user writes in ~/.aws/config.
  writeFileSync(
    join(alice.configHome, 'aws-config'),
    `[profile jit]\nregion = ${stack.region}\ncredential_process = ${process.execPath} ${distJit()} creds --role ${role}\n`,
  );
});

after(async () => {
  await proxy?.close();
  await api?.close();
  await broker?.close();
});

/** `aws ...` as alice with the jit profile, against moto. */
function awsCli(...args: string[]): Promise<JitResult> {
  const child = spawn(aws, args, {
    env: {
      PATH: process.env.PATH,
      HOME: alice.configHome,
      XDG_CONFIG_HOME: alice.configHome,
      AWS_CONFIG_FILE: join(alice.configHome, 'aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(alice.configHome, 'no-credentials'),
      AWS_PROFILE: 'jit',
      AWS_ENDPOINT_URL: stack.motoUrl,
      NO_COLOR: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const sessions = async () => (await broker.view(broker.client.workflow.getHandle(grantId))).sessions;
const credentialCalls = () =>
  proxy.seen.filter((s) => s.method === 'POST' && s.path.endsWith('/credentials'));
const cacheDir = () => join(alice.configHome, 'jit', 'cache');

test('ten `aws sts get-caller-identity` calls through credential_process make one STS session', {
  timeout: 120_000,
}, async () => {
  for (let i = 0; i < 10; i++) {
    const who = await awsCli('sts', 'get-caller-identity', '--output', 'json');
    expectExit(who, 0, `aws call ${i + 1}`);
    assert.match(JSON.parse(who.stdout).Arn, /:assumed-role\/jit-t[0-9a-f]+-prod-readonly\/jit-/);
  }
  assert.equal((await sessions()).length, 1, 'one session on the grant');
  assert.equal(credentialCalls().length, 1, 'one credentials call reached the API');
  // Each cached answer still asked whether the grant is active.
  assert.ok(proxy.seen.filter((s) => s.method === 'GET' && s.path === `/v1/requests/${grantId}`).length >= 9);

  assert.equal(statSync(cacheDir()).mode & 0o777, 0o700);
  const files = readdirSync(cacheDir()).filter((f) => f.endsWith('.json'));
  assert.deepEqual(
    files.map((f) => f.split('-')[0]).sort(),
    ['grant', 'role'],
    'one entry per role and per grant',
  );
  for (const file of files) assert.equal(statSync(join(cacheDir(), file)).mode & 0o777, 0o600);
});

test('--no-cache mints a new session, which later calls then reuse', async () => {
  const fresh = await alice.run('creds', '--role', role, '--no-cache');
  expectExit(fresh, 0, 'creds --no-cache');
  assert.equal((await sessions()).length, 2);
  const cached = await alice.run('creds', grantId);
  expectExit(cached, 0, 'creds ID');
  assert.equal(JSON.parse(cached.stdout).AccessKeyId, JSON.parse(fresh.stdout).AccessKeyId);
  expectExit(await awsCli('sts', 'get-caller-identity'), 0, 'aws after --no-cache');
  assert.equal((await sessions()).length, 2);
});

test('credential processes started together mint one session between them', async () => {
  rmSync(cacheDir(), { recursive: true, force: true });
  const before = credentialCalls().length;
  const results = await Promise.all(Array.from({ length: 5 }, () => alice.run('creds', '--role', role)));
  for (const [i, r] of results.entries()) expectExit(r, 0, `creds ${i}`);
  assert.equal(new Set(results.map((r) => JSON.parse(r.stdout).AccessKeyId)).size, 1);
  assert.equal(credentialCalls().length - before, 1);
});

test('with the API unreachable the cached credentials still answer, saying so', async () => {
  proxy.down = true;
  try {
    const result = await alice.run('creds', '--role', role);
    expectExit(result, 0, 'creds with the API down');
    assert.equal(JSON.parse(result.stdout).Version, 1);
    assert.match(
      result.stderr,
      /is not reachable; answering from the cache \(credentials of grant-\w+, expiring in \d+m/,
    );
    expectExit(await awsCli('sts', 'get-caller-identity'), 0, 'aws with the API down');
  } finally {
    proxy.down = false;
  }
});

test('after a revoke the next AWS call fails naming why, and the cache is gone', async () => {
  expectExit(await bob.run('revoke', grantId, '--reason', 'INC-9 contained'), 0, 'bob revokes');
  const denied = await awsCli('sts', 'get-caller-identity');
  assert.notEqual(denied.code, 0);
  assert.match(
    denied.stderr,
    new RegExp(
      `${grantId} has ended \\(revoked by bob@example.test: INC-9 contained\\); its cached credentials are deleted`,
    ),
  );
  assert.equal(
    readdirSync(cacheDir()).filter((f) => f.endsWith('.json')).length,
    0,
    'no cached credentials of the revoked grant',
  );
  const direct = await alice.run('creds', '--role', role);
  expectExit(direct, 3, 'creds --role with no active grant');
  assert.match(direct.stderr, new RegExp(`no active grant for ${role}: run \`jit request ${role}`));
  assert.equal(direct.stdout, '');
});

test('cached credentials are renewed inside the refresh margin, unless they already last until the grant ends', async () => {
  const requested = await alice.run('request', role, '--for', '20m', '--reason', 'margin', '--json');
  expectExit(requested, 0, 'request');
  const id = JSON.parse(requested.stdout).id as string;
  const sessionsOf = async () => (await broker.view(broker.client.workflow.getHandle(id))).sessions.length;
  const first = JSON.parse((await alice.run('creds', id)).stdout);
  let renewed: { AccessKeyId: string; Expiration: string };
  expectExit(await alice.run('config', 'set', 'credsRefreshMargin', '30m'), 0, 'config set margin');
  try {
    // 20 minutes left, inside the 30-minute margin, but nothing longer can be had: kept.
    assert.equal(JSON.parse((await alice.run('creds', id)).stdout).AccessKeyId, first.AccessKeyId);
    assert.equal(await sessionsOf(), 1);
    // The grant now ends later than the credentials: renewed.
    expectExit(await alice.run('extend', id, '--for', '10m', '--reason', 'a bit more'), 0, 'extend');
    renewed = JSON.parse((await alice.run('creds', id)).stdout);
    assert.notEqual(renewed.AccessKeyId, first.AccessKeyId);
    assert.ok(Date.parse(renewed.Expiration) > Date.parse(first.Expiration));
    assert.equal(await sessionsOf(), 2);
  } finally {
    await alice.run('config', 'unset', 'credsRefreshMargin');
  }
  // Outside the default 5-minute margin: from the cache.
  assert.equal(JSON.parse((await alice.run('creds', id)).stdout).AccessKeyId, renewed.AccessKeyId);
  assert.equal(await sessionsOf(), 2);
});

test('jit logout deletes cached credentials with the tokens', async () => {
  const requested = await alice.run('request', role, '--for', '30m', '--reason', 'again', '--json');
  expectExit(requested, 0, 'request');
  expectExit(await alice.run('creds', '--role', role), 0, 'creds');
  assert.ok(readdirSync(cacheDir()).some((f) => f.endsWith('.json')));
  const out = await alice.run('logout');
  expectExit(out, 0, 'logout');
  assert.match(out.stderr, /logged out; cached credentials deleted/);
  assert.equal(existsSync(cacheDir()), false);
});
