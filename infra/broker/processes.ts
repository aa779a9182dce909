// The broker's own processes in the local stack (`npm start`): the API and the worker, run from the
// TypeScript sources and kept running by a supervisor; and the dev OIDC issuer.
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { dataDir, ensureDir, repoRoot } from '../paths.js';
import {
  httpOk,
  type RunningService,
  spawnService,
  startOrReuse,
  stopChild,
  waitUntilReady,
} from '../process.js';
import { supervise } from './supervisor.js';

const tsEntry = (file: string) => ['--import', 'tsx', join(repoRoot, file)];

/** A broker process this run started and supervises: restarted when it dies, `pid()` the current one. */
export interface SupervisedService extends RunningService {
  pid(): number | undefined;
}

/** What the stack tells a supervisor: where to report, and how to stop everything when it gives up. */
export interface SupervisionHooks {
  say: (line: string) => void;
  giveUp: (why: string) => void;
  onRestart?: (name: string, pid: number | undefined) => void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts `name` from its entry point, waits until `ready`, then supervises it. */
async function startSupervised(opts: {
  name: string;
  url: string;
  entry: string;
  env: NodeJS.ProcessEnv;
  ready: (child: ChildProcess) => Promise<boolean>;
  timeoutMs: number;
  hooks: SupervisionHooks;
  pidFile?: string;
}): Promise<SupervisedService> {
  let logFile = '';
  const spawnIt = () => {
    const started = spawnService(opts.name, process.execPath, tsEntry(opts.entry), opts.env);
    logFile = started.logFile;
    if (opts.pidFile) writeFileSync(opts.pidFile, String(started.child.pid ?? ''));
    return started.child;
  };
  const waitFor = (child: ChildProcess) =>
    waitUntilReady(opts.name, () => opts.ready(child), { timeoutMs: opts.timeoutMs, child, logFile });
  const first = spawnIt();
  await waitFor(first);
  const supervisor = supervise(first, {
    name: opts.name,
    logFile,
    spawn: spawnIt,
    ready: waitFor,
    say: opts.hooks.say,
    giveUp: opts.hooks.giveUp,
    onRestart: (child) => opts.hooks.onRestart?.(opts.name, child.pid),
  });
  return {
    name: opts.name,
    url: opts.url,
    reused: false,
    pid: () => supervisor.current().pid,
    stop: async () => {
      await supervisor.stop();
      if (opts.pidFile) rmSync(opts.pidFile, { force: true });
    },
  };
}

export async function startApi(opts: {
  host: string;
  port: number;
  env: NodeJS.ProcessEnv;
  hooks: SupervisionHooks;
}): Promise<RunningService & { pid?(): number | undefined }> {
  const url = `http://${opts.host}:${opts.port}`;
  // A second `npm start` reuses the API that already answers (and does not supervise it).
  if (await httpOk(`${url}/healthz`).catch(() => false))
    return { name: 'api', url, reused: true, stop: async () => {} };
  return startSupervised({
    name: 'api',
    url,
    entry: 'api/main.ts',
    env: opts.env,
    ready: () => httpOk(`${url}/readyz`),
    timeoutMs: 30_000,
    hooks: opts.hooks,
  });
}

/** True once a worker with this pid polls the task queue. */
async function polling(address: string, namespace: string, taskQueue: string, pid: number): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 1000 });
  try {
    const { pollers } = await connection.workflowService.describeTaskQueue({
      namespace,
      taskQueue: { name: taskQueue },
    });
    return pollers.some((p) => p.identity?.startsWith(`${pid}@`));
  } finally {
    await connection.close();
  }
}

/** The worker has no port; a pid file tells a second `npm start` that one already runs. */
export async function startWorker(opts: {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  env: NodeJS.ProcessEnv;
  hooks: SupervisionHooks;
}): Promise<RunningService & { pid?(): number | undefined }> {
  const pidFile = join(ensureDir(join(dataDir, 'run')), 'worker.pid');
  const url = `task queue ${opts.taskQueue}`;
  const previous = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : 0;
  if (previous > 0 && alive(previous)) return { name: 'worker', url, reused: true, stop: async () => {} };
  return startSupervised({
    name: 'worker',
    url,
    entry: 'worker/main.ts',
    env: opts.env,
    ready: (child) => polling(opts.temporalAddress, opts.namespace, opts.taskQueue, child.pid ?? 0),
    timeoutMs: 60_000,
    hooks: opts.hooks,
    pidFile,
  });
}

/** The Step Functions queue door (queue/main.ts): no port; ready once its log says it polls. */
export async function startQueueDoor(opts: { env: NodeJS.ProcessEnv }): Promise<RunningService> {
  const pidFile = join(ensureDir(join(dataDir, 'run')), 'queue.pid');
  const base = { name: 'queue', url: `queue ${opts.env.JIT_HANDOFF_QUEUE_URL ?? ''}` };
  const previous = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : 0;
  if (previous > 0 && alive(previous)) return { ...base, reused: true, stop: async () => {} };

  const { child, logFile } = spawnService('queue', process.execPath, tsEntry('queue/main.ts'), opts.env);
  const from = existsSync(logFile) ? readFileSync(logFile, 'utf8').length : 0;
  writeFileSync(pidFile, String(child.pid ?? 0));
  await waitUntilReady(
    'queue',
    async () => readFileSync(logFile, 'utf8').slice(from).includes('queue door polling'),
    {
      timeoutMs: 60_000,
      child,
      logFile,
    },
  );
  return {
    ...base,
    reused: false,
    stop: async () => {
      await stopChild(child);
      rmSync(pidFile, { force: true });
    },
  };
}

export function startOidcIssuer(opts: {
  host: string;
  port: number;
  name?: string;
  /** moto's URL: the issuer then also serves the AWS console federation stand-in at /federation. */
  awsEndpoint?: string;
}): Promise<RunningService> {
  const url = `http://${opts.host}:${opts.port}`;
  return startOrReuse({
    name: opts.name ?? 'oidc',
    url,
    ready: () => httpOk(`${url}/.well-known/openid-configuration`),
    timeoutMs: 30_000,
    start: () => ({
      command: process.execPath,
      args: tsEntry('infra/oidc/server.ts'),
      env: {
        OIDC_HOST: opts.host,
        OIDC_PORT: String(opts.port),
        ...(opts.awsEndpoint ? { AWS_ENDPOINT_URL: opts.awsEndpoint } : {}),
      },
    }),
  });
}
