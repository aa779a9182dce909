// The Dockerfile cannot be built here (no Docker engine): its steps are checked as text against the
// project's commands, and the production-only install it runs is tried against the lock file.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { repoRoot } from '../infra/paths.js';
import { checkDockerfile, parseDockerfile } from '../infra/tools/dockerfile.js';

const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** `npm ci <args> --dry-run --offline` on a copy of package.json and the lock: the packages it would add. */
function npmCiDryRun(args: string[]): { status: number | null; added: string[]; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'jit-npm-ci-'));
  try {
    for (const file of ['package.json', 'package-lock.json'])
      copyFileSync(join(repoRoot, file), join(dir, file));
    const result = spawnSync(
      'npm',
      ['ci', ...args, '--ignore-scripts', '--dry-run', '--offline', '--no-audit', '--no-fund'],
      {
        cwd: dir,
        encoding: 'utf8',
      },
    );
    const out = `${result.stdout}${result.stderr}`;
    const added = [...out.matchAll(/^add (\S+) \S+$/gm)].map((m) => m[1] as string);
    return { status: result.status, added, out };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('Dockerfile', () => {
  test('multi-stage on node:24 slim: npm ci + npm run build, npm ci --omit=dev, runtime with dist/ only, non-root, tini', () => {
    assert.deepEqual(checkDockerfile(dockerfile, pkg).problems, []);
    const stages = parseDockerfile(dockerfile);
    assert.deepEqual(
      stages.map((s) => [s.name, s.from]),
      [
        ['build', 'node:24-bookworm-slim'],
        ['deps', 'node:24-bookworm-slim'],
        ['runtime', 'node:24-bookworm-slim'],
      ],
    );
    assert.equal(stages[2]?.user, '10001:10001', 'the chart runs as uid/gid 10001');
  });

  test('the check refuses an image that drifts from the project build', () => {
    const refused = (from: string, to: string, problem: RegExp) => {
      assert.ok(dockerfile.includes(from), from);
      const { problems } = checkDockerfile(dockerfile.replace(from, to), pkg);
      assert.ok(
        problems.some((p) => problem.test(p)),
        `${to}: ${problems.join('; ')}`,
      );
    };
    refused('RUN npm ci --omit=dev', 'RUN npm install --omit=dev', /deps stage/);
    refused('RUN npm ci\n', 'RUN npm install\n', /npm ci/);
    refused('USER 10001:10001', 'USER root', /non-root/);
    refused('CMD ["node", "dist/api/main.js"]', 'CMD ["npx", "tsx", "api/main.ts"]', /CMD/);
    refused('COPY --chown=root:root package.json ./', 'COPY . .', /copies sources/);
    refused('ENTRYPOINT ["/usr/bin/tini", "--"]', 'ENTRYPOINT ["node"]', /tini/);
    refused('ARG NODE_IMAGE=node:24-bookworm-slim', 'ARG NODE_IMAGE=node:20-bookworm', /node:24/);
  });

  test('`npm ci --omit=dev` accepts the lock file and installs none of the dev tooling', () => {
    const prod = npmCiDryRun(['--omit=dev']);
    assert.equal(prod.status, 0, prod.out);
    for (const name of Object.keys(pkg.dependencies)) assert.ok(prod.added.includes(name), `${name} missing`);
    // Tooling never needed at run time (some other dev dependencies are also transitive runtime ones).
    for (const name of ['aws-cdk-lib', 'cdk-nag', '@biomejs/biome', 'typescript', '@temporalio/testing']) {
      assert.ok(pkg.devDependencies[name], name);
      assert.ok(!prod.added.includes(name), `${name} installed`);
    }
    const full = npmCiDryRun([]);
    assert.equal(full.status, 0, full.out);
    for (const name of Object.keys(pkg.devDependencies))
      assert.ok(full.added.includes(name), `${name} missing`);
  });

  test('.dockerignore keeps local state, caches and secrets out of the build context', () => {
    const ignored = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const entry of ['.git', '.data', '.cache', 'node_modules', 'dist', '.env', '.env.*']) {
      assert.ok(ignored.includes(entry), `${entry} is not ignored`);
    }
  });
});
