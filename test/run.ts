// `npm test`: lint + type check, the production build (dist/, skipped when its inputs are unchanged),
// a private stack (in-memory Temporal dev server, moto, dev OIDC issuer, PostgreSQL) on free ports so
// it never collides with `npm start`, then every test file (test/unit/ included).
// `npm run test:unit` (`--unit`): only test/unit/, the tests that need no stack, with no lint or build.
// Ends with one line: `N passed, N failed, N skipped`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { startMoto } from '../infra/aws/moto.js';
import { seedMoto } from '../infra/aws/seed.js';
import { startOidcIssuer } from '../infra/broker/processes.js';
import { ensureChromium } from '../infra/chromium.js';
import { dataDir, ensureDir, repoRoot } from '../infra/paths.js';
import { reachableDataDir, startPostgres } from '../infra/postgres.js';
import { freePort, type RunningService } from '../infra/process.js';
import { ensureTemporalCli } from '../infra/temporal/cli.js';
import { startTemporal } from '../infra/temporal/server.js';

const host = '127.0.0.1';
const say = (msg: string) => process.stdout.write(`${msg}\n`);
const counts = { passed: 0, failed: 0, skipped: 0 };

function check(name: string, command: string, args: string[]): void {
  const started = Date.now();
  const result = spawnSync(command, args, { cwd: repoRoot, stdio: 'inherit' });
  const ok = result.status === 0;
  counts[ok ? 'passed' : 'failed'] += 1;
  say(`${ok ? 'ok' : 'FAILED'}: ${name} (${Date.now() - started} ms)`);
}

const unitOnly = process.argv[2] === '--unit';

function testFiles(): string[] {
  const requested = process.argv.slice(unitOnly ? 3 : 2);
  if (requested.length > 0) return requested;
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return walk(path);
      return entry.name.endsWith('.test.ts') ? [relative(repoRoot, path)] : [];
    });
  return walk(join(repoRoot, unitOnly ? 'test/unit' : 'test')).sort();
}

/** Runs the files under node's test runner and adds its TAP summary to the counts. */
function runFiles(files: string[], env: NodeJS.ProcessEnv): void {
  // Per run, so two runs side by side never read each other's summary.
  const tap = join(ensureDir(join(dataDir, 'test')), `results-${process.pid}.tap`);
  const result = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      '--test-concurrency=2',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=tap',
      `--test-reporter-destination=${tap}`,
      ...files,
    ],
    { cwd: repoRoot, stdio: 'inherit', env },
  );
  const summary = tapSummary(tap);
  rmSync(tap, { force: true });
  counts.passed += summary.pass;
  counts.failed += summary.fail + summary.cancelled;
  counts.skipped += summary.skipped + summary.todo;
  if (result.status !== 0 && summary.fail + summary.cancelled === 0) counts.failed += 1;
}

function finish(): never {
  say(`${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
  process.exit(counts.failed > 0 || counts.passed === 0 ? 1 : 0);
}

/** Reads the closing summary of node's TAP reporter. */
function tapSummary(file: string): {
  pass: number;
  fail: number;
  skipped: number;
  cancelled: number;
  todo: number;
} {
  const text = readFileSync(file, 'utf8');
  const read = (key: string) => Number(text.match(new RegExp(`^# ${key} (\\d+)$`, 'm'))?.[1] ?? 0);
  return {
    pass: read('pass'),
    fail: read('fail'),
    skipped: read('skipped'),
    cancelled: read('cancelled'),
    todo: read('todo'),
  };
}

/**
 * The test PostgreSQL's data folder. A second run side by side (same checkout) must not take over
 * the first one's server, so it gets a throw-away cluster of its own.
 */
function postgresDataDir(): { path: string; release(): void } {
  const owner = join(ensureDir(join(dataDir, 'test')), 'postgres.owner');
  const holder = Number(existsSync(owner) ? readFileSync(owner, 'utf8') : 0);
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (holder && holder !== process.pid && alive(holder)) {
    const path = reachableDataDir(join(dataDir, 'test', `postgres-${process.pid}`));
    return { path, release: () => rmSync(path, { recursive: true, force: true }) };
  }
  writeFileSync(owner, String(process.pid));
  const path = reachableDataDir(join(dataDir, 'test', 'postgres'));
  return { path, release: () => rmSync(owner, { force: true }) };
}

async function main(): Promise<void> {
  const files = testFiles();
  if (unitOnly) {
    runFiles(files, { ...process.env, NODE_ENV: 'test' });
    finish();
  }
  if (process.argv.length <= 2) {
    check('lint (biome)', join(repoRoot, 'node_modules/.bin/biome'), ['check', '.']);
    check('type check (tsc --noEmit)', join(repoRoot, 'node_modules/.bin/tsc'), ['--noEmit', '-p', '.']);
  }
  // Tests start the API, the worker and the CLI from dist/, as production does.
  check('build (npm run build, skipped when unchanged)', process.execPath, [
    '--import',
    'tsx',
    join(repoRoot, 'infra/build.ts'),
    '--if-changed',
  ]);

  const services: RunningService[] = [];
  try {
    ensureTemporalCli(say);
    if (files.some((file) => file.includes('browser'))) ensureChromium(say);
    const temporal = await startTemporal({
      host,
      port: await freePort(),
      uiPort: null,
      dbFile: null,
      name: 'test-temporal',
      log: say,
    });
    services.push(temporal);
    const moto = await startMoto({ host, port: await freePort(), name: 'test-moto', log: say });
    services.push(moto);
    const { broker, admin } = await seedMoto(moto.url, join(dataDir, 'test', 'aws'));
    const oidc = await startOidcIssuer({
      host,
      port: await freePort(),
      name: 'test-oidc',
      awsEndpoint: moto.url,
    });
    services.push(oidc);
    const pgDir = postgresDataDir();
    const postgres = await startPostgres({
      dataDir: pgDir.path,
      port: await freePort(),
      log: say,
      relaxedDurability: true,
    });
    services.push({
      name: 'postgres',
      url: postgres.url,
      reused: false,
      stop: async () => {
        await postgres.stop();
        pgDir.release();
      },
    });

    runFiles(files, {
      ...process.env,
      NODE_ENV: 'test',
      JIT_TEST_TEMPORAL_ADDRESS: temporal.url,
      JIT_TEST_MOTO_URL: moto.url,
      JIT_TEST_OIDC_ISSUER: oidc.url,
      JIT_TEST_DATABASE_URL: postgres.url,
      JIT_TEST_AWS_BROKER: JSON.stringify(broker),
      JIT_TEST_AWS_ADMIN: JSON.stringify(admin),
    });
  } catch (err) {
    counts.failed += 1;
    say(`test stack failed: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    for (const service of services.reverse()) await service.stop().catch(() => {});
  }
  finish();
}

void main();
