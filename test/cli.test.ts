// The `jit` command as a person uses it: a real child process per command, logged in through the
// real device flow, against a real API, broker worker, Temporal and moto.
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromProcess } from '@aws-sdk/credential-provider-process';
import { startFakeFederation, startTestApi, type TestApi } from './support/api.js';
import { eventually } from './support/assertions.js';
import { startTestBroker, type TestBroker } from './support/broker.js';
import { type CliUser, cliUser, type JitResult, jitBin, loginWithCli } from './support/cli.js';
import { testStack } from './support/stack.js';

let broker: TestBroker;
let api: TestApi;
let federation: Awaited<ReturnType<typeof startFakeFederation>>;
let alice: CliUser;
let bob: CliUser;
let carol: CliUser;
/** alice's prod-admin grant, approved by bob and carol. */
let grantId: string;

before(async () => {
  broker = await startTestBroker();
  await broker.startWorker();
  federation = await startFakeFederation();
  api = await startTestApi(broker, federation.url);
  [alice, bob, carol] = [cliUser(api.url), cliUser(api.url), cliUser(api.url)];
});
after(async () => {
  await api?.close();
  await federation?.close();
  await broker?.close();
});

const expectExit = (result: JitResult, code: number, what: string) =>
  assert.equal(
    result.code,
    code,
    `${what}: exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
  );

const commandNames = [
  ['login'],
  ['logout'],
  ['whoami'],
  ['roles'],
  ['request'],
  ['status'],
  ['list'],
  ['approve'],
  ['deny'],
  ['cancel'],
  ['revoke'],
  ['extend'],
  ['creds'],
  ['console'],
  ['env'],
  ['audit', 'export'],
  ['audit', 'verify'],
];

test('--help on every command prints its usage on stdout and exits 0', async () => {
  const results = await Promise.all(commandNames.map((words) => alice.run(...words, '--help')));
  results.forEach((result, i) => {
    const words = commandNames[i] ?? [];
    expectExit(result, 0, `${words.join(' ')} --help`);
    assert.match(result.stdout, new RegExp(`^Usage: jit ${words.join(' ')}`), words.join(' '));
    assert.equal(result.stderr, '');
  });
  const overview = await alice.run('--help');
  expectExit(overview, 0, 'jit --help');
  for (const words of commandNames)
    assert.ok(overview.stdout.includes(`  ${words.join(' ')} `), words.join(' '));
});

test('unknown commands, unknown flags and missing arguments print usage on stderr and exit 64', async () => {
  const unknown = await alice.run('frobnicate');
  expectExit(unknown, 64, 'unknown command');
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
  assert.match(unknown.stderr, /Usage: jit COMMAND/);
  assert.equal(unknown.stdout, '');

  const badFlag = await alice.run('roles', '--bogus');
  expectExit(badFlag, 64, 'unknown flag');
  assert.match(badFlag.stderr, /--bogus[\s\S]*Usage: jit roles/);

  const missingFor = await alice.run('request', 'prod-admin', '--reason', 'x');
  expectExit(missingFor, 64, 'request without --for');
  assert.match(missingFor.stderr, /missing --for[\s\S]*Usage: jit request/);

  expectExit(await alice.run(), 64, 'no command');
  expectExit(await alice.run('creds'), 64, 'creds with neither ID nor --role');
});

test('without a login every API command says to run `jit login` (exit 2)', async () => {
  for (const args of [['roles'], ['whoami'], ['creds', '--role', 'prod-admin'], ['status']]) {
    const result = await alice.run(...args);
    expectExit(result, 2, args.join(' '));
    assert.match(result.stderr, /not logged in: run `jit login`/);
    assert.equal(result.stdout, '', 'nothing on stdout: a credential_process caller must not parse an error');
  }
});

test('jit login runs the device flow; the token cache is private; whoami and roles use it', async () => {
  for (const [user, name] of [
    [alice, 'alice'],
    [bob, 'bob'],
    [carol, 'carol'],
  ] as const) {
    const login = await loginWithCli(user, name);
    expectExit(login, 0, `login ${name}`);
    assert.match(login.stderr, new RegExp(`logged in as ${name}@example.test`));
    assert.doesNotMatch(login.stdout + login.stderr, /eyJ/, 'login never prints a token');
  }
  const cache = join(alice.configHome, 'jit', 'tokens.json');
  assert.equal(statSync(cache).mode & 0o777, 0o600);
  assert.equal(statSync(join(alice.configHome, 'jit')).mode & 0o777, 0o700);

  const who = await alice.run('whoami');
  expectExit(who, 0, 'whoami');
  assert.match(who.stdout, /sub\s+alice/);
  assert.match(who.stdout, /email\s+alice@example.test/);
  assert.match(who.stdout, /groups\s+engineers/);
  assert.match(who.stdout, /expires\s+in (59m|1h)/);
  assert.doesNotMatch(who.stdout, /eyJ/);

  const roles = await alice.run('roles');
  expectExit(roles, 0, 'roles');
  assert.match(roles.stdout, /^ROLE\s+MAX\s+APPROVALS/);
  assert.match(roles.stdout, /prod-admin\s+4h\s+2\s/);
  const json = JSON.parse((await alice.run('roles', '--json')).stdout);
  assert.deepEqual(json.roles.map((r: { id: string }) => r.id).sort(), ['prod-admin', 'prod-readonly']);
});

test('request --wait follows prod-admin through two approvals; self-approval is refused', async () => {
  const waiting = alice.start(
    'request',
    'prod-admin',
    '--for',
    '1h',
    '--reason',
    'INC-42 rotate keys',
    '--ticket',
    'INC-42',
    '--wait',
    '--json',
  );
  const [, id] = await waiting.stderrMatch(/requested (grant-\w+): pending: approvals 0 of 2/);
  grantId = id as string;

  const self = await alice.run('approve', grantId);
  expectExit(self, 1, 'self-approval');
  assert.match(self.stderr, /refused \(self_approval\): /);

  const first = await bob.run('approve', grantId, '--comment', 'go');
  expectExit(first, 0, 'bob approves');
  assert.match(first.stdout, /pending: approvals 1 of 2/);
  await waiting.stderrMatch(/approvals 1 of 2/);

  const twice = await bob.run('approve', grantId);
  expectExit(twice, 1, 'bob approves twice');
  assert.match(twice.stderr, /refused \(already_approved\)/);

  expectExit(await carol.run('approve', grantId), 0, 'carol approves');
  const result = await waiting.done;
  expectExit(result, 0, 'request --wait');
  const view = JSON.parse(result.stdout);
  assert.equal(view.id, grantId);
  assert.equal(view.status, 'active');
  assert.equal(view.ticket, 'INC-42');
  assert.deepEqual(
    view.approvals.map((a: { by: string }) => a.by),
    ['bob', 'carol'],
  );
  assert.match(result.stderr, /active, expires in/);
});

test('jit creds works as credential_process for the AWS SDK: GetCallerIdentity on moto', async () => {
  const stack = testStack();
  // credential_process runs through a shell with the SDK's environment: the CLI's settings go on the line.
  const env = ['JIT_API_URL', 'JIT_OIDC_ISSUER', 'XDG_CONFIG_HOME']
    .map((k) => `${k}=${alice.env[k]}`)
    .join(' ');
  const configFile = join(alice.configHome, 'aws-config');
  writeFileSync(
    configFile,
    `[profile jit-prod-admin]\ncredential_process = env ${env} ${process.execPath} ${jitBin} creds ${grantId}\n`,
  );
  const sts = new STSClient({
    region: stack.region,
    endpoint: stack.motoUrl,
    credentials: fromProcess({
      profile: 'jit-prod-admin',
      configFilepath: configFile,
      filepath: join(alice.configHome, 'no-aws-credentials'),
    }),
  });
  try {
    const who = await sts.send(new GetCallerIdentityCommand({}));
    assert.match(who.Arn ?? '', /:assumed-role\/jit-t[0-9a-f]+-prod-admin\/jit-[0-9A-Z]{26}-\d+$/);
  } finally {
    sts.destroy();
  }

  // Only the JSON, exactly as the API gives it.
  const creds = await alice.run('creds', grantId);
  expectExit(creds, 0, 'creds ID');
  const body = JSON.parse(creds.stdout);
  assert.deepEqual(Object.keys(body).sort(), [
    'AccessKeyId',
    'Expiration',
    'SecretAccessKey',
    'SessionToken',
    'Version',
  ]);
  assert.equal(body.Version, 1);
  assert.equal(creds.stderr, '');
});

test('creds --role finds the active grant; env prints shell exports; console prints the sign-in URL', async () => {
  const byRole = await eventually('the active grant to be listed', async () => {
    const result = await alice.run('creds', '--role', 'prod-admin');
    return result.code === 0 ? result : undefined;
  });
  assert.equal(JSON.parse(byRole.stdout).Version, 1);

  const env = await alice.run('env', grantId);
  expectExit(env, 0, 'env');
  const lines = env.stdout.trim().split('\n');
  assert.deepEqual(
    lines.map((l) => l.split('=')[0]),
    [
      'export AWS_ACCESS_KEY_ID',
      'export AWS_SECRET_ACCESS_KEY',
      'export AWS_SESSION_TOKEN',
      'export AWS_CREDENTIAL_EXPIRATION',
    ],
  );
  for (const line of lines) assert.match(line, /^export AWS_\w+='[^']*'$/);

  const consoleUrl = await alice.run('console', grantId);
  expectExit(consoleUrl, 0, 'console');
  assert.match(
    consoleUrl.stdout.trim(),
    /^http:\/\/127\.0\.0\.1:\d+\/federation\?Action=login&.*SigninToken=fake-signin-token/,
  );

  // Bob reviews prod-admin and sees alice's grant, but credentials are only ever the requester's.
  const bobs = await bob.run('creds', '--role', 'prod-admin');
  expectExit(bobs, 3, 'a reviewer asking for creds by role');
  assert.match(bobs.stderr, /no active grant for prod-admin: run `jit request prod-admin/);
});

test('status and list show the grant to a person', async () => {
  const status = await alice.run('status', grantId);
  expectExit(status, 0, 'status ID');
  assert.match(status.stdout, new RegExp(`^${grantId}\\n`));
  assert.match(status.stdout, /status\s+active/);
  assert.match(status.stdout, /expires\s+in (59m|1h)/);
  assert.match(status.stdout, /approved\s+bob@example.test (just now|\S+ ago): go/);

  const mine = await alice.run('status');
  expectExit(mine, 0, 'status');
  assert.match(mine.stdout, /^ID\s+ROLE\s+STATUS/);
  assert.match(mine.stdout, new RegExp(`${grantId}\\s+prod-admin\\s+active\\s+alice`));

  const listed = JSON.parse(
    (await bob.run('list', '--status', 'active', '--role', 'prod-admin', '--json')).stdout,
  );
  assert.ok(listed.requests.some((g: { id: string }) => g.id === grantId));
});

test('revoke ends the grant; creds then fail on stderr naming the next step', async () => {
  const noReason = await bob.run('revoke', grantId);
  expectExit(noReason, 64, 'revoke without --reason');

  const revoked = await bob.run('revoke', grantId, '--reason', 'INC-42 done');
  expectExit(revoked, 0, 'revoke');
  assert.match(revoked.stdout, /revoked by bob@example.test: INC-42 done/);

  const byId = await alice.run('creds', grantId);
  expectExit(byId, 1, 'creds of a revoked grant');
  assert.match(byId.stderr, /grant_not_active: .*`jit status grant-/);
  assert.equal(byId.stdout, '');
});

test('request --wait exits 3 when the grant is denied; cancel withdraws a pending request', async () => {
  const waiting = alice.start(
    'request',
    'prod-admin',
    '--for',
    '30m',
    '--reason',
    'INC-43',
    '--ticket',
    'INC-43',
    '--wait',
  );
  const [, id] = await waiting.stderrMatch(/requested (grant-\w+)/);
  expectExit(await bob.run('deny', id as string, '--reason', 'use readonly'), 0, 'deny');
  const result = await waiting.done;
  expectExit(result, 3, 'request --wait on a denied grant');
  assert.match(result.stderr, /denied by bob@example.test: use readonly/);
  assert.match(result.stdout, /status\s+denied/);

  const pending = await alice.run(
    'request',
    'prod-admin',
    '--for',
    '30m',
    '--reason',
    'INC-44',
    '--ticket',
    'INC-44',
  );
  expectExit(pending, 0, 'request');
  const [, other] = pending.stderr.match(/requested (grant-\w+)/) ?? [];
  const cancelled = await alice.run('cancel', other as string);
  expectExit(cancelled, 0, 'cancel');
  assert.match(cancelled.stdout, /cancelled/);
});

test('extend asks for more time on an active grant', async () => {
  const requested = await alice.run(
    'request',
    'prod-readonly',
    '--for',
    '20m',
    '--reason',
    'look around',
    '--json',
  );
  expectExit(requested, 0, 'request prod-readonly');
  const view = JSON.parse(requested.stdout);
  assert.equal(view.status, 'active');
  const extended = await alice.run('extend', view.id, '--for', '10m', '--reason', 'still looking', '--json');
  expectExit(extended, 0, 'extend');
  const after = JSON.parse(extended.stdout);
  assert.ok(Date.parse(after.expiresAt) > Date.parse(view.expiresAt), 'the grant runs longer');
});

test('audit verify and export for auditors; engineers are refused', async () => {
  const dave = cliUser(api.url);
  expectExit(await loginWithCli(dave, 'dave'), 0, 'login dave');

  const verified = await dave.run('audit', 'verify');
  expectExit(verified, 0, 'audit verify');
  assert.match(verified.stdout, /ok: audit chain intact, \d+ rows checked/);

  const out = join(dave.configHome, 'events.jsonl');
  const exported = await dave.run('audit', 'export', '--from', '2000-01-01T00:00:00Z', '--out', out);
  expectExit(exported, 0, 'audit export');
  const events = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  assert.ok(events.some((e) => e.grantId === grantId || JSON.stringify(e).includes(grantId)));

  const csv = await dave.run('audit', 'export', '--format', 'csv', '--grants', '--grant', grantId);
  expectExit(csv, 0, 'audit export csv');
  assert.ok(csv.stdout.split('\n').length >= 2, 'a header and a row');
  assert.ok(csv.stdout.includes(grantId));

  const refused = await alice.run('audit', 'verify');
  expectExit(refused, 1, 'audit verify as an engineer');
  assert.match(refused.stderr, /refused \(forbidden\): only auditors/);
});

test('an expired access token is refreshed; a dead session says to log in again; logout forgets it', async () => {
  const cache = join(carol.configHome, 'jit', 'tokens.json');
  const tokens = JSON.parse(readFileSync(cache, 'utf8'));
  writeFileSync(cache, JSON.stringify({ ...tokens, expires_at: Date.now() - 1000 }));
  expectExit(await carol.run('roles'), 0, 'roles with an expired access token');
  const refreshed = JSON.parse(readFileSync(cache, 'utf8'));
  assert.notEqual(refreshed.access_token, tokens.access_token);
  assert.ok(refreshed.expires_at > Date.now() + 30 * 60_000);
  assert.equal(statSync(cache).mode & 0o777, 0o600);

  // A token the API no longer accepts, though it looks fresh.
  writeFileSync(cache, JSON.stringify({ ...refreshed, access_token: 'not.a.token' }));
  const rejected = await carol.run('roles');
  expectExit(rejected, 2, 'roles with a rejected token');
  assert.match(rejected.stderr, /session expired: run `jit login`/);

  writeFileSync(
    cache,
    JSON.stringify({ ...refreshed, expires_at: Date.now() - 1000, refresh_token: 'revoked' }),
  );
  const expired = await carol.run('whoami');
  expectExit(expired, 2, 'whoami with a dead refresh token');
  assert.match(expired.stderr, /session expired: run `jit login`/);

  expectExit(await carol.run('logout'), 0, 'logout');
  const gone = await carol.run('whoami');
  expectExit(gone, 2, 'whoami after logout');
  assert.match(gone.stderr, /not logged in: run `jit login`/);
});
