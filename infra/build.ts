// `npm run build`: the production build, everything in dist/, run with plain `node` (no tsx):
//   dist/api/main.js, dist/worker/main.js   tsc output of the sources (tsconfig.build.json)
//   dist/worker/workflow-bundle.js          the workflow bundle, built ahead of time (no webpack at start)
//   dist/policies/                           the shipped policy folder (data: JIT_POLICY_DIR's default)
//   dist/cli/jit.mjs                         the `jit` CLI as one file, no dependencies (esbuild), and a
//                                            package.json so `npm pack dist/cli` makes an installable CLI
// Options: --if-changed   skip when the inputs are unchanged since the last build (the tests use it)
//          --quiet        print nothing but errors
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { bundleWorkflowCode } from '@temporalio/worker';
import { build as esbuild } from 'esbuild';
import { sharedWorkflowModules } from '../worker/bundle.js';
import { repoRoot } from './paths.js';

export const distDir = join(repoRoot, 'dist');
const digestFile = join(distDir, '.build-digest');
/** Everything the build reads; a change to any of them means a new build. */
const inputs = ['api', 'worker', 'workflows', 'activities', 'common', 'policies', 'cli', 'store', 'platform'];
const inputFiles = [
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'infra/build.ts',
];
/** The CLI package's oldest Node: what users may have, not what the broker runs on. */
const CLI_NODE_TARGET = 'node20';

function digestOfInputs(): string {
  const hash = createHash('sha256').update(process.version);
  const walk = (dir: string): string[] =>
    existsSync(dir)
      ? readdirSync(dir, { withFileTypes: true })
          .sort((a, b) => a.name.localeCompare(b.name))
          .flatMap((entry) => {
            const path = join(dir, entry.name);
            return entry.isDirectory() ? walk(path) : [path];
          })
      : [];
  const files = [
    ...inputs.flatMap((dir) => walk(join(repoRoot, dir))),
    ...inputFiles.map((f) => join(repoRoot, f)),
  ];
  for (const file of files) hash.update(relative(repoRoot, file)).update('\0').update(readFileSync(file));
  return hash.digest('hex');
}

export async function build(
  opts: { ifChanged?: boolean; log?: (msg: string) => void } = {},
): Promise<boolean> {
  const log = opts.log ?? (() => {});
  const digest = digestOfInputs();
  if (opts.ifChanged && existsSync(digestFile) && readFileSync(digestFile, 'utf8').trim() === digest) {
    log('dist/ is up to date');
    return false;
  }
  const started = performance.now();
  rmSync(distDir, { recursive: true, force: true });

  log('compiling TypeScript (tsconfig.build.json) ...');
  const tsc = spawnSync(
    process.execPath,
    [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: repoRoot,
      stdio: 'inherit',
    },
  );
  if (tsc.status !== 0) throw new Error('tsc failed (see above)');

  log('copying the policy folder ...');
  cpSync(join(repoRoot, 'policies'), join(distDir, 'policies'), {
    recursive: true,
    filter: (src) => !src.endsWith('.ts'),
  });

  log('bundling the workflows ...');
  const quiet = () => {};
  const { code } = await bundleWorkflowCode({
    // The compiled JavaScript: the bundle holds exactly what dist/ ships.
    workflowsPath: join(distDir, 'workflows/index.js'),
    preloadModules: sharedWorkflowModules,
    workflowInterceptorModules: [join(distDir, 'workflows/tracing.js')],
    logger: { trace: quiet, debug: quiet, info: quiet, log: quiet, warn: quiet, error: console.error },
  });
  const bundlePath = join(distDir, 'worker/workflow-bundle.js');
  // A compiled source file of that name would be silently replaced, and the worker would not start.
  if (existsSync(bundlePath)) throw new Error(`${bundlePath} is a compiled source file; rename the source`);
  writeFileSync(bundlePath, code);

  log('bundling the CLI ...');
  await buildCli(join(distDir, 'cli'));
  chmodSync(join(distDir, 'cli/jit.mjs'), 0o755);

  writeFileSync(digestFile, `${digest}\n`);
  log(`built dist/ in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return true;
}

/** dist/cli: jit.mjs (one file, every dependency inside) and the package.json of the CLI package. */
async function buildCli(outDir: string): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  const rootPackage = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  await esbuild({
    entryPoints: [join(repoRoot, 'cli/main.ts')],
    outfile: join(outDir, 'jit.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: CLI_NODE_TARGET,
    minify: true,
    legalComments: 'external',
    banner: {
      // CommonJS dependencies inside an ES module still call require().
      js: "#!/usr/bin/env node\nimport { createRequire as __jitRequire } from 'node:module'; const require = __jitRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
  writeFileSync(
    join(outDir, 'package.json'),
    `${JSON.stringify(
      {
        name: 'jit-broker-cli',
        version: rootPackage.version,
        description: 'jit: just-in-time AWS access from the jit-broker (one file, no dependencies)',
        type: 'module',
        bin: { jit: 'jit.mjs' },
        files: ['jit.mjs', 'jit.mjs.LEGAL.txt'],
        engines: { node: '>=20.18' },
      },
      null,
      2,
    )}\n`,
  );
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { 'if-changed': { type: 'boolean' }, quiet: { type: 'boolean' } },
  });
  const log = values.quiet ? () => {} : (msg: string) => process.stdout.write(`[build] ${msg}\n`);
  try {
    await build({ ifChanged: values['if-changed'] === true, log });
  } catch (err) {
    process.stderr.write(`[build] ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
