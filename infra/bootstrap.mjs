// The one entry point of every npm script: runs before any `npm install`, on whatever `node` the
// machine has (>= 18). It makes sure of two things, then runs the given TypeScript entry point:
//
// 1. Node.js 24 LTS. When the machine's `node` is another major version, a pinned Node 24 comes
//    from the npm registry (the `node-<platform>-<arch>` package holds `bin/node` and the headers)
//    into .cache/node/, checked against the integrity pinned below, and everything runs on it: this
//    script re-executes itself there, and child processes find it first on PATH.
// 2. The npm packages of package-lock.json, installed by that Node (native modules such as
//    better-sqlite3 compile against its own headers: header downloads are not always reachable).
//
// Usage: node infra/bootstrap.mjs [--quiet] [--install-only] <entry.ts> [args...]
// Plain JS with no dependencies, so it works on a fresh clone.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const quiet = args[0] === '--quiet' ? Boolean(args.shift()) : false;
const installOnly = args[0] === '--install-only' ? Boolean(args.shift()) : false;
const say = (msg) => {
  if (!quiet) process.stderr.write(`[bootstrap] ${msg}\n`);
};
const fail = (msg) => {
  process.stderr.write(`[bootstrap] ${msg}\n`);
  process.exit(1);
};

/** The supported runtime. Raise both together; `integrity` is what the npm registry publishes. */
const NODE_VERSION = '24.22.3';
const NODE_INTEGRITY = {
  'linux-x64':
    'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==',
  'linux-arm64':
    'sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw==',
};
const SUPPORTED_MAJOR = Number(NODE_VERSION.split('.')[0]);

/** Path of a Node 24 binary: this one, or the pinned one from the cache (fetched once). */
function node24() {
  if (Number(process.versions.node.split('.')[0]) === SUPPORTED_MAJOR) return process.execPath;
  const platform = `${process.platform}-${process.arch}`;
  const integrity = NODE_INTEGRITY[platform];
  if (!integrity) {
    fail(
      `jit-broker runs on Node.js ${SUPPORTED_MAJOR} LTS; found ${process.versions.node} on ${platform}, ` +
        `for which no pinned build is known. Install Node.js ${SUPPORTED_MAJOR} and run this again.`,
    );
  }
  const dir = join(root, '.cache', 'node', `v${NODE_VERSION}`);
  const pkgDir = join(dir, 'node_modules', `node-${platform}`);
  const bin = join(pkgDir, 'bin', 'node');
  if (existsSync(bin)) return bin;
  say(`fetching Node.js ${NODE_VERSION} (node-${platform} from the npm registry) into ${dir} ...`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const spec = `node-${platform}@${NODE_VERSION}`;
  const result = spawnSync(
    'npm',
    ['install', '--prefix', dir, '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', spec],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  if (result.status !== 0) fail(`could not install ${spec} from the npm registry`);
  const lock = JSON.parse(readFileSync(join(dir, 'node_modules', '.package-lock.json'), 'utf8'));
  const got = lock.packages?.[`node_modules/node-${platform}`]?.integrity;
  if (got !== integrity) {
    rmSync(dir, { recursive: true, force: true });
    fail(`${spec} has integrity ${got}, expected ${integrity}; refusing to run it`);
  }
  return bin;
}

const node = node24();
if (node !== process.execPath) {
  // Go on under Node 24: the rest of this script, and everything it starts.
  const child = spawn(node, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: withNodeOnPath(process.env, node),
  });
  forwardSignals(child);
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + signalNumber(signal) : 1)));
} else {
  ensurePackages();
  if (installOnly || args.length === 0) process.exit(0);
  const env = withNodeOnPath(process.env, node);
  // Dev and test run the TypeScript sources as they are (tsx); production runs dist/ (README).
  const child = spawn(node, ['--import', 'tsx', ...args], { stdio: 'inherit', env, cwd: process.cwd() });
  forwardSignals(child);
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + signalNumber(signal) : 1)));
}

/** Child processes that run `node`, `npm` or `npx` get this Node first. */
function withNodeOnPath(env, nodeBin) {
  const binDir = dirname(nodeBin);
  const path = env.PATH ?? '';
  const first = path.split(delimiter)[0];
  return {
    ...env,
    PATH: first === binDir ? path : `${binDir}${delimiter}${path}`,
    // Native modules build against this Node's own headers (the package ships them).
    npm_config_nodedir: dirname(binDir),
  };
}

/**
 * Installs the npm packages when node_modules is missing, or was installed from another lock file
 * or for another Node version (native modules are built per ABI).
 */
function ensurePackages() {
  const lock = readFileSync(join(root, 'package-lock.json'));
  const digest = createHash('sha256').update(lock).update(process.versions.modules).digest('hex');
  const stamp = join(root, 'node_modules', '.jit-lock-digest');
  const current = existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : '';
  if (current === digest) return;
  say(`installing npm packages for Node.js ${process.versions.node} (npm ci, from package-lock.json) ...`);
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: root,
    stdio: quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit',
    env: withNodeOnPath(process.env, process.execPath),
  });
  if (result.status !== 0) fail('npm ci failed; see the output above.');
  mkdirSync(dirname(stamp), { recursive: true });
  writeFileSync(stamp, `${digest}\n`);
}

/** Ctrl-C reaches the whole process group; the child decides how to stop, this one waits for it. */
function forwardSignals(child) {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      if (signal !== 'SIGINT') child.kill(signal);
    });
  }
}

function signalNumber(signal) {
  return { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 }[signal] ?? 1;
}
