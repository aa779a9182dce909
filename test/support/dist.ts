// The production build the tests run: test/run.ts builds dist/ before any test file (npm run build,
// skipped when nothing changed), so a test only checks that it is there.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../infra/paths.js';

export const distDir = join(repoRoot, 'dist');

/** A file of dist/, which must exist: `npm test` (test/run.ts) builds it first. */
export function distFile(path: string): string {
  const file = join(distDir, path);
  if (!existsSync(file)) {
    throw new Error(
      `${file} is missing: run the tests through test/run.ts (it runs the build), or npm run build`,
    );
  }
  return file;
}

/** The bundled CLI, dist/cli/jit.mjs. */
export const distJit = () => distFile('cli/jit.mjs');
