// Schemathesis against /openapi.json (issue 13): generated requests for every operation, valid and
// not, as a signed-in person, with every check. Any server error, undocumented status or response
// that breaks its own schema fails the test. Bounded in examples and time; JIT_FUZZ_SEED replays a run.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { dataDir, ensureDir } from '../infra/paths.js';
import { startTestApi, type TestApi } from './support/api.js';
import { startTestBroker, type TestBroker } from './support/broker.js';
import { ensurePythonTool } from './support/python-tool.js';

let broker: TestBroker;
let api: TestApi;

before(async () => {
  broker = await startTestBroker({ store: 'postgres' });
  await broker.startWorker();
  api = await startTestApi(broker);
});
after(async () => {
  await api?.close();
  await broker?.close();
});

function schemathesis(args: string[]): Promise<{ code: number | null; output: string }> {
  const bin = ensurePythonTool('schemathesis', 'schemathesis');
  return new Promise((resolve) => {
    // Its working folder gets its state (.schemathesis/): under .data, not in the tree.
    const child = spawn(bin, args, {
      cwd: ensureDir(join(dataDir, 'test', 'schemathesis')),
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('close', (code) => resolve({ code, output }));
  });
}

for (const user of ['alice', 'dave'] as const) {
  test(`schemathesis --checks all as ${user}: no server error, no undocumented status`, {
    timeout: 180_000,
  }, async (t) => {
    // A fixed seed: CI answers the same question every run; JIT_FUZZ_SEED explores others.
    const seed = process.env.JIT_FUZZ_SEED ?? '80936';
    t.diagnostic(`seed ${seed} (JIT_FUZZ_SEED=${seed} replays it)`);
    const { code, output } = await schemathesis([
      'run',
      `${api.url}/openapi.json`,
      '--url',
      api.url,
      '--checks',
      'all',
      // Not positive_data_acceptance: the API refuses, by design, text OpenAPI's JSON Schema cannot
      // describe (control characters, unpaired surrogates, bidi overrides; a flag without a
      // comment; comma lists of statuses and event types), so "schema-valid" input gets a 400.
      // Every other check stays: no 5xx, no undocumented status, responses match their schemas.
      '--exclude-checks',
      'positive_data_acceptance',
      '--header',
      `Authorization: Bearer ${await api.token(user)}`,
      '--max-examples',
      '15',
      '--max-time',
      '75',
      '--seed',
      seed,
      '--workers',
      '2',
      '--request-timeout',
      '20',
      '--generation-database',
      'none',
      '--no-color',
      '--output-truncate',
      'true',
    ]);
    // The whole report is long; it goes to a file, the failures' summary into the message.
    const report = join(ensureDir(join(dataDir, 'test')), `schemathesis-${user}-${process.pid}.txt`);
    writeFileSync(report, output);
    const summary = output.slice(output.lastIndexOf('SUMMARY'));
    const failures = output.slice(output.indexOf('FAILURES'), output.indexOf('WARNINGS'));
    assert.doesNotMatch(summary, /Failures:/, `${failures.slice(0, 12_000)}\n(the whole report: ${report})`);
    // Errors are Schemathesis failing to generate, not the API answering wrongly. Tolerated only
    // while the known one is among them: CPython 3.11's AST constructor crashing inside Hypothesis.
    const errors = Number(/Runtime Error: (\d+)/.exec(summary)?.[1] ?? 0);
    const knownCrashes = output.split('AST constructor recursion depth mismatch').length - 1;
    assert.ok(errors === 0 || knownCrashes > 0, `Schemathesis errors other than the known crash (${report})`);
    assert.ok(code === 0 || errors > 0, `schemathesis exited ${code} (${report})`);
    assert.match(summary, /generated/);
  });
}
