// How fast `jit` answers: `node infra/bootstrap.mjs bench/cli.ts` (needs hyperfine on PATH; Debian:
// apt-get install hyperfine). Builds dist/ if needed, brings up the bench stack (bench/lib/stack.ts), logs alice in,
// gives her an active prod-readonly grant, then times with hyperfine: `jit --help` and a cached
// `jit creds --role`, for the bundle (dist/cli/jit.mjs) and for the sources through tsx
// (cli/bin.js), and an uncached `jit creds --no-cache` (a new STS session each run); and the bundle on
// an older Node, the users' own, when one is installed (/usr/bin/node, or JIT_TEST_OLD_NODE).
// Prints a table (mean, min, and the CPU time, which a busy machine disturbs least) and writes it to
// bench/results/cli.md.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from '../infra/build.js';
import { deviceLogin } from '../infra/oidc/device-login.js';
import { repoRoot } from '../infra/paths.js';
import { findOnPath } from '../infra/process.js';
import { startBenchStack } from './lib/stack.js';

const hyperfine = findOnPath('hyperfine');
if (!hyperfine) {
  process.stderr.write('bench/cli.ts needs hyperfine on PATH (Debian: apt-get install hyperfine)\n');
  process.exit(1);
}
const say = (msg: string) => process.stdout.write(`${msg}\n`);
await build({ ifChanged: true, log: say });
const stack = await startBenchStack(say);
const home = mkdtempSync(join(tmpdir(), 'jit-bench-cli-'));
try {
  const config = join(home, 'jit');
  mkdirSync(config, { recursive: true, mode: 0o700 });
  writeFileSync(
    join(config, 'config.json'),
    JSON.stringify({ apiUrl: stack.apiUrl, issuer: stack.oidcIssuer }),
  );
  // The token cache as `jit login` writes it.
  const tokens = await deviceLogin({ issuer: stack.oidcIssuer, user: 'alice' });
  writeFileSync(
    join(config, 'tokens.json'),
    JSON.stringify({
      issuer: stack.oidcIssuer,
      client_id: 'jit-cli',
      access_token: tokens.access_token,
      refresh_token: tokens.refresh_token,
      expires_at: Date.now() + (tokens.expires_in ?? 3600) * 1000,
    }),
    { mode: 0o600 },
  );
  const env = { ...process.env, XDG_CONFIG_HOME: home, NO_COLOR: '1' };
  const bundle = join(repoRoot, 'dist/cli/jit.mjs');
  const sources = join(repoRoot, 'cli/bin.js');
  const jit = (bin: string, ...args: string[]) => {
    const result = spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`jit ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  jit(bundle, 'request', 'prod-readonly', '--for', '1h', '--reason', 'bench');
  jit(bundle, 'creds', '--role', 'prod-readonly');

  const node = process.execPath;
  const oldNode = [process.env.JIT_TEST_OLD_NODE, '/usr/bin/node'].find((path) => {
    if (!path) return false;
    const version = spawnSync(path, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout;
    return Number(version?.split('.')[0]) < 24;
  });
  const oldVersion = oldNode ? spawnSync(oldNode, ['--version'], { encoding: 'utf8' }).stdout.trim() : '';
  const onOldNode = oldNode
    ? [
        '-n',
        `jit --help (bundle, Node ${oldVersion})`,
        `${oldNode} ${bundle} --help`,
        '-n',
        `jit creds --role, cached (bundle, Node ${oldVersion})`,
        `${oldNode} ${bundle} creds --role prod-readonly`,
      ]
    : [];
  const out = join(repoRoot, 'bench/results/cli.md');
  const json = join(home, 'hyperfine.json');
  const run = spawnSync(
    hyperfine,
    [
      '--shell=none',
      '--warmup',
      '3',
      '--runs',
      '30',
      '--export-json',
      json,
      '-n',
      'jit --help (bundle)',
      `${node} ${bundle} --help`,
      '-n',
      'jit --help (sources, tsx)',
      `${node} ${sources} --help`,
      '-n',
      'jit creds --role, cached (bundle)',
      `${node} ${bundle} creds --role prod-readonly`,
      '-n',
      'jit creds --role, cached (sources, tsx)',
      `${node} ${sources} creds --role prod-readonly`,
      '-n',
      'jit creds --role --no-cache (bundle)',
      `${node} ${bundle} creds --role prod-readonly --no-cache`,
      ...onOldNode,
    ],
    { env, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  if (run.status !== 0) throw new Error('hyperfine failed');
  const { results } = JSON.parse(readFileSync(json, 'utf8')) as {
    results: { command: string; mean: number; min: number; user: number; system: number }[];
  };
  const ms = (seconds: number) => `${(seconds * 1000).toFixed(1)} ms`;
  const rows = results.map(
    (r) => `| ${r.command} | ${ms(r.mean)} | ${ms(r.min)} | ${ms(r.user + r.system)} |`,
  );
  const table = [
    `Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, \`node infra/bootstrap.mjs bench/cli.ts\` (hyperfine, 30 runs)`,
    '',
    '| command | mean | min | CPU (user + system) |',
    '| --- | ---: | ---: | ---: |',
    ...rows,
    '',
  ].join('\n');
  writeFileSync(out, table);
  say(`\n${table}\nwrote ${out}`);
} finally {
  rmSync(home, { recursive: true, force: true });
  await stack.stop();
}
process.exit(0);
