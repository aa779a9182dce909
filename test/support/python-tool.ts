// A tool from PyPI for tests, in a project-local venv like moto's (infra/aws/moto.ts): pinned in a
// requirements file beside this one, installed once into .cache/venv-<name>/, rebuilt only when
// that file changes.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from '../../infra/paths.js';
import { requireTool, runLogged } from '../../infra/process.js';

/** Path of `executable` in the venv of `name`, installed from `<name>-requirements.txt` on first use. */
export function ensurePythonTool(name: string, executable: string): string {
  const requirements = join(import.meta.dirname, `${name}-requirements.txt`);
  const venvDir = join(cacheDir, `venv-${name}`);
  const bin = join(venvDir, 'bin', executable);
  const digest = createHash('sha256').update(readFileSync(requirements)).digest('hex');
  const stamp = join(venvDir, '.requirements-digest');
  if (existsSync(bin) && existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) return bin;
  const python = requireTool('python3', `needed for ${name} (tests)`, 'Install Python >= 3.10 with venv.');
  runLogged(`${name}-venv`, python, ['-m', 'venv', '--clear', venvDir]);
  runLogged(`${name}-venv`, join(venvDir, 'bin', 'pip'), ['install', '--quiet', '-r', requirements]);
  writeFileSync(stamp, digest);
  return bin;
}
