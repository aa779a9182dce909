// The real AWS CLI for tests (v1, from PyPI), in a project-local venv like moto's
// (infra/aws/moto.ts): .cache/venv-awscli/, rebuilt only when its requirements file changes.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from '../../infra/paths.js';
import { requireTool, runLogged } from '../../infra/process.js';

const requirements = join(import.meta.dirname, 'awscli-requirements.txt');
const venvDir = join(cacheDir, 'venv-awscli');

/** Path of the `aws` executable, installed on first use. */
export function ensureAwsCli(): string {
  const aws = join(venvDir, 'bin', 'aws');
  const digest = createHash('sha256').update(readFileSync(requirements)).digest('hex');
  const stamp = join(venvDir, '.requirements-digest');
  if (existsSync(aws) && existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) return aws;
  const python = requireTool('python3', 'needed for the AWS CLI test', 'Install Python >= 3.10 with venv.');
  runLogged('awscli-venv', python, ['-m', 'venv', '--clear', venvDir]);
  runLogged('awscli-venv', join(venvDir, 'bin', 'pip'), ['install', '--quiet', '-r', requirements]);
  writeFileSync(stamp, digest);
  return aws;
}
