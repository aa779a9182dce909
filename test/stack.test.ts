// `npm start` as a developer runs it, on non-default ports and its own data folder: the table and the
// banner, .data/stack.json for dev-token, and a supervisor that brings a killed API back.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { supervise } from '../infra/broker/supervisor.js';
import { repoRoot } from '../infra/paths.js';
import { freePort } from '../infra/process.js';
import type { StackInfo } from '../infra/stack-info.js';
import { eventually } from './support/assertions.js';

const dataDir = mkdtempSync(join(tmpdir(), 'jit-stack-'));
let stack: ChildProcess | undefined;
let output = '';

after(async () => {
  if (stack && stack.exitCode === null) {
    stack.kill('SIGTERM');
    await new Promise((resolve) => stack?.once('exit', resolve));
  }
  rmSync(dataDir, { recursive: true, force: true });
});

const waitFor = (pattern: RegExp, timeoutMs = 180_000) =>
  eventually(`${pattern} in the npm start output`, async () => output.match(pattern) ?? undefined, timeoutMs);

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('npm start: aligned table, jit config lines, dev-token finds the stack, a killed API comes back', {
  timeout: 420_000,
}, async () => {
  const ports = {
    API_PORT: await freePort(),
    OIDC_PORT: await freePort(),
    MOTO_PORT: await freePort(),
    TEMPORAL_PORT: await freePort(),
    TEMPORAL_UI_PORT: await freePort(),
    TEMPORAL_METRICS_PORT: await freePort(),
  };
  const env = {
    ...process.env,
    JIT_DATA_DIR: dataDir,
    ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
  };
  stack = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'infra/stack.ts')], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  stack.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  stack.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  await waitFor(/local stack is up on Node (v\d+)\./);
  assert.match(output, /local stack is up on Node v24\./);

  // One line per service, columns aligned; set-up chatter only on lines of its own.
  const rows = output.split('\n').filter((l) => /^(temporal|moto|oidc|worker|api)\b/.test(l));
  assert.deepEqual(
    rows.map((l) => l.split(/\s+/)[0]),
    ['temporal', 'moto', 'oidc', 'worker', 'api'],
  );
  for (const row of rows) assert.match(row, /^\w+ {2,}(started|already up) +\S.*$/, row);
  assert.equal(new Set(rows.map((r) => r.search(/(started|already up)/))).size, 1, 'one column');

  const apiUrl = `http://127.0.0.1:${ports.API_PORT}`;
  const issuer = `http://127.0.0.1:${ports.OIDC_PORT}`;
  assert.ok(
    output.includes(`npm run --silent jit -- config set apiUrl ${apiUrl}\n`),
    'the jit config line for the API',
  );
  assert.ok(
    output.includes(`npm run --silent jit -- config set issuer ${issuer}\n`),
    'the jit config line for the issuer',
  );
  assert.ok(output.includes(`http://127.0.0.1:${ports.TEMPORAL_METRICS_PORT}/metrics`), 'Temporal metrics');

  const info = JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8')) as StackInfo;
  assert.equal(info.apiUrl, apiUrl);
  assert.equal(info.oidcIssuer, issuer);
  const firstPid = info.pids.api as number;
  assert.ok(alive(firstPid));

  // A second terminal: dev-token with no OIDC_* variables finds the non-default issuer.
  const { OIDC_ISSUER: _i, OIDC_PORT: _p, OIDC_HOST: _h, ...plain } = process.env;
  const token = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'infra/oidc/dev-token.ts'), 'alice'],
    {
      cwd: repoRoot,
      env: { ...plain, JIT_DATA_DIR: dataDir },
      encoding: 'utf8',
    },
  );
  assert.equal(token.status, 0, token.stderr);
  assert.match(token.stdout, /^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);

  process.kill(firstPid, 'SIGKILL');
  const [died] = await waitFor(
    /\[supervisor\] api died \(killed by SIGKILL\); restarting in 1 s \(log: \S+api\.log\)/,
  );
  assert.ok(died.includes(join(dataDir, 'logs')), 'names the log');
  const [, newPid] = await waitFor(/\[supervisor\] api is back \(pid (\d+)\)/, 60_000);
  const ready = await fetch(`${apiUrl}/readyz`);
  assert.equal(ready.status, 200);
  await eventually('stack.json to name the new pid', async () => {
    const now = JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8')) as StackInfo;
    return now.pids.api === Number(newPid) || undefined;
  });

  stack.kill('SIGTERM');
  await new Promise((resolve) => stack?.once('exit', resolve));
  assert.equal(alive(Number(newPid)), false, 'Ctrl-C stops the restarted API too');
});

test('a process that keeps dying makes the supervisor give up, naming its log', async () => {
  const crash = () =>
    spawn(process.execPath, ['-e', 'setTimeout(() => process.exit(3), 50)'], { stdio: 'ignore' });
  const said: string[] = [];
  const why = await new Promise<string>((resolve) => {
    supervise(crash(), {
      name: 'api',
      logFile: '/var/log/api.log',
      spawn: crash,
      ready: async () => {},
      say: (line) => said.push(line),
      giveUp: resolve,
      backoffMs: [10, 20],
      maxCrashes: 3,
    });
  });
  assert.deepEqual(
    said.filter((l) => l.startsWith('api died')),
    [
      'api died (exit code 3); restarting in 0.01 s (log: /var/log/api.log)',
      'api died (exit code 3); restarting in 0.02 s (log: /var/log/api.log)',
    ],
  );
  assert.equal(why, 'api died 3 times within 5 min (last: exit code 3); see /var/log/api.log');
});
