// The `jit` command as a person uses it: a real child process per command, logged in through the
// real device flow, against a real API, broker worker, Temporal and moto.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromProcess } from '@aws-sdk/credential-provider-process';
import { completeUserStep } from '../infra/oidc/device-login.js';
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
  ['config', 'list'],
  ['config', 'get'],
  ['config', 'set'],
  ['config', 'unset'],
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

  // Without AWS federation no sign-in URL can be built: a clear error, nothing printed on stdout.
  const noFederation = await startTestApi(broker);
  try {
    const failed = await alice.run('--api', noFederation.url, 'console', grantId);
    expectExit(failed, 1, 'console without federation');
    assert.match(failed.stderr, /no console sign-in URL: the broker could not get a sign-in token/);
    assert.equal(failed.stdout, '');
  } finally {
    await noFederation.close();
  }

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
  assert.match(mine.stdout, /^Your active and pending grants\nID\s+ROLE\s+STATUS\s+CREATED\s+EXPIRES\n/);
  assert.match(
    mine.stdout,
    new RegExp(`${grantId}\\s+prod-admin\\s+active\\s+(just now|\\S+ ago)\\s+in (59m|1h)`),
  );
  assert.match(mine.stdout, /Waiting for review \(by others, not approved by you\)\nnone\n/);

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

  // alice's cached credentials of that grant: the status check finds it revoked.
  const cached = await alice.run('creds', grantId);
  expectExit(cached, 3, 'creds of a revoked grant, from the cache');
  assert.match(
    cached.stderr,
    /has ended \(revoked by bob@example.test: INC-42 done\); its cached credentials are deleted/,
  );
  assert.equal(cached.stdout, '');
  const uncached = await alice.run('creds', grantId);
  expectExit(uncached, 3, 'creds of a revoked grant');
  assert.match(
    uncached.stderr,
    /is not active \(revoked by bob@example.test: INC-42 done\); see `jit status grant-/,
  );
  assert.equal(uncached.stdout, '');

  // A revoked grant has no expiry to show any more.
  const listed = await alice.run('list', '--role', 'prod-admin');
  assert.match(
    listed.stdout,
    new RegExp(`${grantId}\\s+prod-admin\\s+revoked\\s+alice@example\\.test\\s+(just now|\\S+ ago)\\s+-\n`),
  );
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

test('status shows a reviewer what waits for them, until they have approved it', async () => {
  const pending = await alice.run(
    'request',
    'prod-admin',
    '--for',
    '1h',
    '--reason',
    'INC-45',
    '--ticket',
    'INC-45',
  );
  const [, id] = pending.stderr.match(/requested (grant-\w+)/) ?? [];
  const before = await bob.run('status');
  expectExit(before, 0, 'bob status');
  assert.match(
    before.stdout,
    new RegExp(
      `${id}\\s+prod-admin\\s+alice@example.test\\s+request\\s+0 of 2\\s+(just now|\\S+ ago)\\s+INC-45\n`,
    ),
  );
  assert.match(before.stderr, /decide with `jit approve ID`/);
  expectExit(await bob.run('approve', id as string), 0, 'bob approves');
  // Other test files' grants share the list; look at this one.
  type Review = { id: string; approvals: number; requiredApprovals: number };
  const reviews = async (user: CliUser) =>
    (JSON.parse((await user.run('status', '--json')).stdout).toReview as Review[]).filter((r) => r.id === id);
  assert.deepEqual(await reviews(bob), [], 'bob has approved it');
  assert.deepEqual(
    (await reviews(carol)).map((r) => [r.approvals, r.requiredApprovals]),
    [[1, 2]],
  );
  expectExit(await alice.run('cancel', id as string), 0, 'cancel');
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

  // The cap reads like every other duration the CLI prints.
  const capped = await alice.run('extend', view.id, '--for', '2h', '--reason', 'all day');
  expectExit(capped, 1, 'extend past the cap');
  assert.match(
    capped.stderr,
    /refused \(extension_exceeds_cap\): the role allows at most 1h in total; this grant has 30m/,
  );
});

test('audit verify and export for auditors; engineers are refused', async () => {
  const dave = cliUser(api.url);
  expectExit(await loginWithCli(dave, 'dave'), 0, 'login dave');

  const verified = await dave.run('audit', 'verify');
  expectExit(verified, 0, 'audit verify');
  assert.match(
    verified.stdout,
    /ok: audit chain intact, (\d+) rows checked\nhead: row \d+, hash [0-9a-f]{64}\n/,
  );

  const badDate = await dave.run('audit', 'export', '--from', '01/12/2026');
  expectExit(badDate, 64, 'audit export with a date it cannot read');
  assert.match(badDate.stderr, /--from "01\/12\/2026" is not a day \(2026-12-01\)/);

  const out = join(dave.configHome, 'events.jsonl');
  // A plain day: its start, UTC.
  const exported = await dave.run('audit', 'export', '--from', '2000-01-01', '--out', out);
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

test('jit config writes the settings file that later commands read', async () => {
  const erin = cliUser(api.url, { env: {} });
  const set = await erin.run('config', 'set', 'api-url', `${api.url}/`);
  expectExit(set, 0, 'config set');
  expectExit(await erin.run('config', 'set', 'issuer', testStack().oidcIssuer), 0, 'config set issuer');
  assert.equal(
    (await erin.run('config', 'get', 'apiUrl')).stdout,
    `${api.url}\n`,
    'stored without the slash',
  );
  const file = join(erin.configHome, 'jit', 'config.json');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), {
    apiUrl: api.url,
    issuer: testStack().oidcIssuer,
  });

  const listed = await erin.run('config', 'list');
  assert.match(listed.stdout, new RegExp(`apiUrl\\s+${api.url.replace(/[.]/g, '\\.')}\\s+file`));
  assert.match(listed.stdout, /oidcClientId\s+jit-cli\s+default/);
  const overridden = await erin.run('config', 'get', 'apiUrl', '--api', 'http://127.0.0.1:1');
  assert.equal(overridden.stdout, 'http://127.0.0.1:1\n');

  const bad = await erin.run('config', 'set', 'apiUrl', 'ftp://x');
  expectExit(bad, 64, 'config set with a bad URL');
  expectExit(await erin.run('config', 'set', 'colour', 'red'), 64, 'unknown setting');

  // No JIT_* variables in this shell: login and the API come from the file.
  expectExit(await loginWithCli(erin, 'erin'), 0, 'login from config.json');
  expectExit(await erin.run('roles'), 0, 'roles from config.json');
  expectExit(await erin.run('config', 'unset', 'apiUrl'), 0, 'config unset');
  assert.equal((await erin.run('config', 'get', 'apiUrl')).stdout, 'http://127.0.0.1:8080\n');
});

test('login settings: the audience is sent when set; a wrong client id or audience is named', async () => {
  const withAudience = cliUser(api.url, {
    env: {
      JIT_API_URL: api.url,
      JIT_OIDC_ISSUER: testStack().oidcIssuer,
      JIT_OIDC_AUDIENCE: 'urn:jit-broker-api',
    },
  });
  expectExit(await loginWithCli(withAudience, 'alice'), 0, 'login with the audience named');
  expectExit(await withAudience.run('roles'), 0, 'roles with that token');

  const wrongClient = cliUser(api.url, {
    env: {
      JIT_API_URL: api.url,
      JIT_OIDC_ISSUER: testStack().oidcIssuer,
      JIT_OIDC_CLIENT_ID: 'no-such-client',
    },
  });
  const refused = await wrongClient.run('login', '--no-browser');
  expectExit(refused, 1, 'login with an unknown client id');
  assert.match(
    refused.stderr,
    /login refused by .*invalid_client.*does not know the client id "no-such-client" \(JIT_OIDC_CLIENT_ID\)/,
  );

  const wrongAudience = cliUser(api.url, {
    env: {
      JIT_API_URL: api.url,
      JIT_OIDC_ISSUER: testStack().oidcIssuer,
      JIT_OIDC_AUDIENCE: 'urn:someone-else',
    },
  });
  const refusedAudience = await wrongAudience.run('login');
  expectExit(refusedAudience, 1, 'login with a wrong audience');
  assert.match(
    refusedAudience.stderr,
    /invalid_target.*refused the audience "urn:someone-else" \(JIT_OIDC_AUDIENCE\)/,
  );
});

/** `jit login` at a terminal: `script` gives it a pseudo-terminal; the test plays the browser. */
async function loginAtTerminal(user: CliUser, ...flags: string[]): Promise<string> {
  const command = [process.execPath, jitBin, 'login', ...flags].join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    env: user.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const url = await eventually('the login URL', async () => output.match(/https?:\/\/\S*user_code=\S+/)?.[0]);
  // Nobody presses Enter: no browser is ever opened by a test.
  await completeUserStep(url.trim(), { username: 'erin', password: 'erin' });
  assert.equal(await exited, 0, output);
  child.stdin.end();
  return output;
}

test('jit login at a terminal offers to open the browser; --no-browser does not', async () => {
  const atTerminal = await loginAtTerminal(cliUser(api.url));
  assert.match(atTerminal, /Press Enter to open it in your browser\./);
  assert.match(atTerminal, /logged in as erin@example.test/);
  const declined = await loginAtTerminal(cliUser(api.url), '--no-browser');
  assert.doesNotMatch(declined, /Press Enter/);
  assert.match(declined, /logged in as erin@example.test/);
  // Without a terminal (every other test here) there is no offer either.
  const piped = await loginWithCli(cliUser(api.url), 'erin');
  assert.doesNotMatch(piped.stderr, /Press Enter/);
});
