// Runs before any `npm install`: installs the npm packages when node_modules is missing or
// older than the lock file. Plain JS with no dependencies so it works on a fresh clone.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.argv.includes('--quiet');
const say = (msg) => {
  if (!quiet) process.stderr.write(`[bootstrap] ${msg}\n`);
};

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 18)) {
  process.stderr.write(`jit-broker needs Node.js >= 20.18 (found ${process.versions.node}).\n`);
  process.exit(1);
}

const lock = readFileSync(join(root, 'package-lock.json'));
const digest = createHash('sha256').update(lock).digest('hex');
const stamp = join(root, 'node_modules', '.jit-lock-digest');
const current = existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : '';

if (current !== digest) {
  say('installing npm packages (npm install, honouring package-lock.json) ...');
  const result = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: root,
    stdio: quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit',
  });
  if (result.status !== 0) {
    process.stderr.write('npm install failed; see the output above.\n');
    process.exit(result.status ?? 1);
  }
  mkdirSync(dirname(stamp), { recursive: true });
  writeFileSync(stamp, `${digest}\n`);
}
