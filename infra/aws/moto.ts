import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from '../paths.js';
import { httpOk, type RunningService, requireTool, runLogged, startOrReuse } from '../process.js';

const requirements = join(import.meta.dirname, 'requirements.txt');
const venvDir = join(cacheDir, 'venv');

/** moto in a project-local venv, rebuilt only when requirements.txt changes. */
export function ensureMotoVenv(log: (msg: string) => void = () => {}): string {
  const motoServer = join(venvDir, 'bin', 'moto_server');
  const digest = createHash('sha256').update(readFileSync(requirements)).digest('hex');
  const stamp = join(venvDir, '.requirements-digest');
  if (existsSync(motoServer) && existsSync(stamp) && readFileSync(stamp, 'utf8') === digest)
    return motoServer;

  const python = requireTool(
    'python3',
    'needed to run moto, the AWS emulator',
    'Install Python >= 3.9 with venv.',
  );
  log(`installing moto into ${venvDir} (once)`);
  runLogged('moto-venv', python, ['-m', 'venv', venvDir]);
  runLogged('moto-venv', join(venvDir, 'bin', 'pip'), ['install', '--quiet', '-r', requirements]);
  writeFileSync(stamp, digest);
  return motoServer;
}

export const motoReachable = (url: string) => httpOk(`${url}/moto-api/`);

/** moto's server mode; state is in memory, so the sample roles are seeded again after each start. */
export function startMoto(opts: {
  host: string;
  port: number;
  name?: string;
  log: (msg: string) => void;
}): Promise<RunningService> {
  const url = `http://${opts.host}:${opts.port}`;
  return startOrReuse({
    name: opts.name ?? 'moto',
    url,
    ready: () => motoReachable(url),
    timeoutMs: 30_000,
    // MOTO_PORT: moto's Step Functions interpreter calls the services of a state machine's tasks
    // back on localhost:$MOTO_PORT (5000 without it).
    start: () => ({
      command: ensureMotoVenv(opts.log),
      args: ['-H', opts.host, '-p', String(opts.port)],
      env: { MOTO_PORT: String(opts.port) },
    }),
  });
}

/**
 * moto runs state machines only when told to (`execute_state_machine`). Its interpreter signs its
 * calls with a fixed fake key, so state machines run only on a moto without IAM enforcement
 * (README, "Step Functions", moto's limits).
 */
export async function enableStepFunctionsExecution(url: string): Promise<void> {
  const res = await fetch(`${url}/moto-api/config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ stepfunctions: { execute_state_machine: true } }),
  });
  if (!res.ok) throw new Error(`moto config answered ${res.status}`);
}
