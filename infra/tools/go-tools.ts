// Command-line tools built from the Go module proxy into .cache/bin, once per pinned version:
// later runs (and offline runs) reuse the binary. The same recipe as infra/temporal/cli.ts.
import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { cacheDir, ensureDir, logsDir } from '../paths.js';
import { PrerequisiteError, requireTool } from '../process.js';

export interface GoTool {
  name: string;
  /** Package path of the main package. */
  pkg: string;
  version: string;
}

/** helm v4 (helm.sh/helm/v3 past v3.21 is not approved here; v4 installs cleanly with go install). */
export const HELM: GoTool = { name: 'helm', pkg: 'helm.sh/helm/v4/cmd/helm', version: 'v4.3.2' };
/**
 * kube-score, the manifest linter: kube-linter's module (golang.stackrox.io/kube-linter) is not
 * served by the Go module proxy reachable here.
 */
export const KUBE_SCORE: GoTool = {
  name: 'kube-score',
  pkg: 'github.com/zegl/kube-score/cmd/kube-score',
  version: 'v1.20.0',
};

const binDir = join(cacheDir, 'bin');
const goDir = join(cacheDir, 'go');
const stampOf = (tool: GoTool) => join(binDir, `.${tool.name}.version`);
const wanted = (tool: GoTool) => `${tool.pkg}@${tool.version}`;

/** The tool's binary if it is built for the pinned version, without touching the network. */
export function cachedGoTool(tool: GoTool): string | undefined {
  const binary = join(binDir, tool.name);
  const stamp = stampOf(tool);
  if (existsSync(binary) && existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted(tool)) return binary;
  return undefined;
}

/**
 * The tool's binary, building it with `go install` when missing or of another version (helm takes
 * about 4 minutes on 2 cores; the build runs at low CPU priority so tests beside it keep their pace).
 */
export async function ensureGoTool(tool: GoTool, log: (msg: string) => void = () => {}): Promise<string> {
  const cached = cachedGoTool(tool);
  if (cached) return cached;
  const go = requireTool(
    'go',
    `needed once to build ${tool.name}`,
    'Install Go >= 1.24 (https://go.dev/dl/).',
  );
  log(`building ${wanted(tool)} into ${binDir} (once)`);
  const logFile = join(ensureDir(logsDir), `${tool.name}-build.log`);
  const out = openSync(logFile, 'a');
  const child = spawn(go, ['install', wanted(tool)], {
    stdio: ['ignore', out, out],
    env: {
      ...process.env,
      GOBIN: ensureDir(binDir),
      GOMODCACHE: join(goDir, 'mod'),
      GOCACHE: join(goDir, 'build'),
      // Keeps the module cache deletable with a plain `rm -rf .cache`.
      GOFLAGS: '-modcacherw',
    },
  });
  try {
    if (child.pid) setPriority(child.pid, 15);
  } catch {
    // Lowering priority is a courtesy; not every platform allows it.
  }
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0)
    throw new PrerequisiteError(`go install ${wanted(tool)} failed (exit ${code}); see ${logFile}`);
  writeFileSync(stampOf(tool), wanted(tool));
  return join(binDir, tool.name);
}

if (process.argv[1] === import.meta.filename) {
  for (const tool of [HELM, KUBE_SCORE]) {
    const started = Date.now();
    const path = await ensureGoTool(tool, (msg) => process.stdout.write(`${msg}\n`));
    process.stdout.write(`${path} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  }
}
