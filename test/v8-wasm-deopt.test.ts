// The V8 crash behind policies/v8-guard.ts: an optimized caller of a Cedar (JS-to-Wasm) call is
// deoptimized while the call runs. Each case runs test/fixtures/wasm-deopt.ts in a child process, with
// TurboFan on, and looks at how that process ends.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../infra/paths.js';

const fixture = join(repoRoot, 'test/fixtures/wasm-deopt.ts');

function runPattern(node: string, mode: 'guarded' | 'unguarded') {
  const result = spawnSync(node, ['--allow-natives-syntax', '--import', 'tsx', fixture, mode, '3000'], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 120_000,
  });
  const output = `${result.stdout}\n${result.stderr}`;
  return { ...result, output };
}

const major = (node: string) =>
  Number(spawnSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.split('.')[0]);

test('on this Node the pattern runs with TurboFan and JS-to-Wasm inlining on, guard lifted', () => {
  const result = runPattern(process.execPath, 'unguarded');
  assert.equal(result.status, 0, `the process died (${result.signal ?? result.status}):\n${result.output}`);
  assert.match(result.stdout, /caller status \d+\nsurvived\n$/);
});

test('with the guard as shipped the pattern runs too', () => {
  const result = runPattern(process.execPath, 'guarded');
  assert.equal(result.status, 0, `the process died (${result.signal ?? result.status}):\n${result.output}`);
  assert.match(result.stdout, /survived/);
});

// Proves the pattern is the crash, and that the guard prevents it, where an older Node is installed
// (the system node of the development machine is 20; JIT_TEST_OLD_NODE names another).
const oldNode = [process.env.JIT_TEST_OLD_NODE, '/usr/bin/node', '/usr/local/bin/node'].find(
  (path): path is string => Boolean(path && existsSync(path) && major(path) < 24),
);

test('on an older Node the pattern crashes V8 without the guard and not with it', {
  skip: oldNode ? false : 'no Node.js older than 24 installed',
}, () => {
  const node = oldNode as string;
  const bare = runPattern(node, 'unguarded');
  assert.equal(
    bare.signal,
    'SIGTRAP',
    `expected the V8 abort, got ${bare.signal ?? bare.status}:\n${bare.output}`,
  );
  assert.match(bare.stderr, /Deoptimizer::DoComputeBuiltinContinuation/);

  const guarded = runPattern(node, 'guarded');
  assert.equal(
    guarded.status,
    0,
    `the guarded process died (${guarded.signal ?? guarded.status}):\n${guarded.output}`,
  );
  assert.match(guarded.stdout, /survived/);
});
