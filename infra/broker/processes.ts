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

const tsEntry = (file: string) => ['--import', 'tsx', join(repoRoot, file)];

export function startApi(opts: {
  host: string;
  port: number;
  env: NodeJS.ProcessEnv;
}): Promise<RunningService> {
  const url = `http://${opts.host}:${opts.port}`;
  return startOrReuse({
    name: 'api',
    url,
    ready: () => httpOk(`${url}/healthz`),
    timeoutMs: 30_000,
    start: () => ({ command: process.execPath, args: tsEntry('api/main.ts'), env: opts.env }),
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
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
}): Promise<RunningService> {
  const pidFile = join(ensureDir(join(dataDir, 'run')), 'worker.pid');
  const base = { name: 'worker', url: `task queue ${opts.taskQueue}` };
  const previous = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : 0;
  if (previous > 0 && alive(previous)) return { ...base, reused: true, stop: async () => {} };

  const { child, logFile } = spawnService('worker', process.execPath, tsEntry('worker/main.ts'), opts.env);
  const pid = child.pid ?? 0;
  writeFileSync(pidFile, String(pid));
  await waitUntilReady('worker', () => polling(opts.temporalAddress, opts.namespace, opts.taskQueue, pid), {
    timeoutMs: 60_000,
    child,
    logFile,
  });
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
