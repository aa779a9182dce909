// The CLI on its own, as a user installs it: the package `npm pack dist/cli` makes, installed offline
// into an empty prefix, with no dependencies; `jit --help` and real commands work, on Node 24 and, where
// it is installed, on an older Node (the bundle targets Node 20).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { startTestApi, type TestApi } from './support/api.js';
import { startTestBroker, type TestBroker } from './support/broker.js';
import { cliUser, loginWithCli } from './support/cli.js';
import { distFile } from './support/dist.js';

const scratch = mkdtempSync(join(tmpdir(), 'jit-cli-package-'));
const prefix = join(scratch, 'prefix');
let installed: string;
let broker: TestBroker;
let api: TestApi;

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const result = spawnSync(command, args, { cwd: scratch, env, encoding: 'utf8', timeout: 120_000 });
  assert.equal(result.status, 0, `${command} ${args.join(' ')}: ${result.stderr}${result.stdout}`);
  return result;
}

before(async () => {
  distFile('cli/package.json');
  const packed = run('npm', [
    'pack',
    join(dirname(distFile('cli/jit.mjs'))),
    '--pack-destination',
    scratch,
    '--silent',
  ]);
  const tarball = join(scratch, packed.stdout.trim().split('\n').pop() as string);
  // Offline: a package that needed anything from the registry would fail here.
  run('npm', ['install', '--global', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', tarball]);
  installed = join(prefix, 'lib', 'node_modules', 'jit-broker-cli');
  broker = await startTestBroker();
  api = await startTestApi(broker);
});

after(async () => {
  await api?.close();
  await broker?.close();
  rmSync(scratch, { recursive: true, force: true });
});

test('the package holds one file and needs nothing else', () => {
  assert.ok(existsSync(join(prefix, 'bin', 'jit')), 'the jit command is on the prefix bin');
  const files = readdirSync(installed).filter((f) => !f.endsWith('.LEGAL.txt'));
  assert.deepEqual(files.sort(), ['jit.mjs', 'package.json']);
  assert.equal(existsSync(join(installed, 'node_modules')), false, 'no dependencies installed');
});

test('the installed `jit` answers --help and does a real login and API call', async () => {
  const help = run(join(prefix, 'bin', 'jit'), ['--help'], { ...process.env, NO_COLOR: '1' });
  assert.match(help.stdout, /^Usage: jit COMMAND/);

  const user = cliUser(api.url, { bin: join(installed, 'jit.mjs') });
  const login = await loginWithCli(user, 'alice');
  assert.equal(login.code, 0, login.stderr);
  const roles = await user.run('roles');
  assert.equal(roles.code, 0, roles.stderr);
  assert.match(roles.stdout, /prod-admin\s+4h\s+2\s/);
});

// The user's own node runs the CLI: find one older than the broker's, if the machine has it.
const oldNode = [process.env.JIT_TEST_OLD_NODE, '/usr/bin/node', '/usr/local/bin/node'].find((path) => {
  if (!path || !existsSync(path)) return false;
  return (
    Number(spawnSync(path, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.split('.')[0]) < 24
  );
});

test('on an older Node (>= 20) the installed `jit` works too', {
  skip: oldNode ? false : 'no Node.js < 24 installed',
}, async () => {
  const node = oldNode as string;
  // `#!/usr/bin/env node` finds that node first on PATH.
  const path = [dirname(node), ...(process.env.PATH ?? '').split(delimiter)].join(delimiter);
  const help = run(join(prefix, 'bin', 'jit'), ['--help'], { ...process.env, PATH: path });
  assert.match(help.stdout, /^Usage: jit COMMAND/);

  const user = cliUser(api.url, { bin: join(installed, 'jit.mjs'), node });
  assert.equal((await loginWithCli(user, 'bob')).code, 0);
  const who = await user.run('whoami');
  assert.equal(who.code, 0, who.stderr);
  assert.match(who.stdout, /groups\s+reviewers/);
});
