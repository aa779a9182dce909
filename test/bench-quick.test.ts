// Keeps the benchmark harness working: runs `bench/run.ts --quick` (its own private stack) and
// checks that it prints the table and writes JSON with every figure. No timing is asserted: this
// machine is shared and a test that fails on a slow minute tells nobody anything.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../infra/paths.js';

const figures = [
  'floor.sequential',
  'floor.concurrent',
  'floor.bare',
  'floor.stsSequential',
  'floor.stsConcurrent',
  'f1.sequential',
  'f1.concurrent',
  'f2',
  'f3',
  'f4',
  'f5.rss',
  'f5.endLag',
  'f6',
  'f7',
];

test('npm run bench -- --quick prints the table and writes JSON with every figure', {
  timeout: 600_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'jit-bench-test-'));
  const out = join(dir, 'broker.json');
  try {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'bench/run.ts'), '--quick', '--out', out],
      {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, `the quick bench failed:\n${output.slice(-3000)}`);

    assert.match(output, /^figure\s+target\s+p50\s+p99 \/ rate\s+vs floor\s+met$/m);
    for (const label of [
      'floor: start + Update',
      'floor: bare workflows/s',
      '1 request -> credentials',
      '2 last approval',
      '3 grant end',
      '4 complete lifecycles/s',
      '5 ',
      '6 GET /v1/requests/{id}',
    ]) {
      assert.ok(output.includes(label), `the table has a row for "${label}"`);
    }

    const json = JSON.parse(readFileSync(out, 'utf8')) as {
      quick: boolean;
      machine: { nproc: number; node: string };
      figures: Record<string, { value: number; met: boolean | null }>;
      results: { f5: { ended: number; grants: number } };
    };
    assert.equal(json.quick, true);
    assert.ok(json.machine.nproc > 0 && json.machine.node.startsWith('v'));
    assert.deepEqual(Object.keys(json.figures).sort(), [...figures].sort());
    for (const key of figures) {
      const figure = json.figures[key];
      assert.ok(figure && Number.isFinite(figure.value), `figure ${key} has a number`);
    }
    // Not a timing: every short grant of figure 5 did end.
    assert.equal(json.results.f5.ended, json.results.f5.grants);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
