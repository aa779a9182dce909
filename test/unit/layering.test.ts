// The architecture's import rules are in biome.json (noRestrictedImports per folder); these prove
// the linter enforces them, by linting a fixture file placed in each layer.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { repoRoot } from '../../infra/paths.js';

function lint(folder: string, source: string): { restricted: boolean; output: string } {
  const file = join(repoRoot, folder, `zz-layering-fixture-${process.pid}.ts`);
  writeFileSync(file, source);
  try {
    const result = spawnSync(join(repoRoot, 'node_modules/.bin/biome'), ['lint', file], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    const output = `${result.stdout}${result.stderr}`;
    return { restricted: output.includes('lint/style/noRestrictedImports'), output };
  } finally {
    rmSync(file, { force: true });
  }
}

const cases: [string, string, string][] = [
  ['workflows', "import { readFileSync } from 'node:fs';\n\nexport const x = readFileSync;\n", 'a Node API'],
  [
    'workflows',
    "import { openAuditStore } from '../store/index.js';\n\nexport const x = openAuditStore;\n",
    'the store',
  ],
  [
    'workflows',
    "import type { ActivityDeps } from '../activities/index.js';\n\nexport type X = ActivityDeps;\n",
    'activity code, even as a type',
  ],
  [
    'common',
    "import { loadConfig } from '../platform/config.js';\n\nexport const x = loadConfig;\n",
    'platform code',
  ],
  [
    'api',
    "import { grantWorkflow } from '../workflows/grant/lifecycle.js';\n\nexport const x = grantWorkflow;\n",
    'workflow code',
  ],
  [
    'api',
    "import { createActivities } from '../activities/index.js';\n\nexport const x = createActivities;\n",
    'activity code',
  ],
  [
    'queue',
    "import { grantWorkflow } from '../workflows/grant/lifecycle.js';\n\nexport const x = grantWorkflow;\n",
    'workflow code',
  ],
  [
    'cli',
    "import { openAuditStore } from '../store/index.js';\n\nexport const x = openAuditStore;\n",
    'server-side code',
  ],
  [
    'store',
    "import { GrantService } from '../api/grant-service.js';\n\nexport const x = GrantService;\n",
    'the API',
  ],
];

describe('the linter enforces the layers', () => {
  for (const [folder, source, what] of cases) {
    test(`${folder}/ may not import ${what}`, () => {
      const { restricted, output } = lint(folder, source);
      assert.ok(restricted, `expected a restricted-import error:\n${output}`);
    });
  }

  test('allowed imports pass: a workflow importing common/ and the workflow SDK', () => {
    const { restricted, output } = lint(
      'workflows',
      "import { condition } from '@temporalio/workflow';\nimport type { GrantView } from '../common/grant.js';\n\nexport const x: [typeof condition, GrantView | undefined] = [condition, undefined];\n",
    );
    assert.equal(restricted, false, output);
  });
});
