import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, ensureDir } from '../paths.js';
import { findOnPath, requireTool, runLogged } from '../process.js';

// Later tags carry a replace directive that `go install` refuses.
const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

/**
 * The `temporal` CLI: from PATH if there is one, else built once with Go into .cache/bin
 * (a few minutes the first time, instant afterwards).
 */
export function ensureTemporalCli(log: (msg: string) => void = () => {}): string {
  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv) return fromEnv;
  const onPath = findOnPath('temporal');
  if (onPath) return onPath;
  const binDir = join(cacheDir, 'bin');
  const cached = join(binDir, 'temporal');
  if (existsSync(cached)) return cached;

  const go = requireTool(
    'go',
    'needed once to build the Temporal CLI dev server',
    'Install Go >= 1.22 (https://go.dev/dl/) or put a `temporal` binary on PATH.',
  );
  log(`building the Temporal CLI (${TEMPORAL_CLI_MODULE}) into ${binDir}; this takes a few minutes once`);
  const goDir = join(cacheDir, 'go');
  runLogged('temporal-cli-build', go, ['install', TEMPORAL_CLI_MODULE], {
    GOBIN: ensureDir(binDir),
    GOMODCACHE: join(goDir, 'mod'),
    GOCACHE: join(goDir, 'build'),
    // Keeps the module cache deletable with a plain `rm -rf .cache`.
    GOFLAGS: '-modcacherw',
  });
  return cached;
}
