// The benchmark's own private stack, on free ports so it never collides with `npm start` or a
// test run: in-memory Temporal dev server, moto, the dev OIDC issuer, the broker's worker and API
// as real processes (worker/main.ts, api/main.ts), and the floor workflow's worker.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { startMoto } from '../../infra/aws/moto.js';
import { type DevCredentials, seedMoto } from '../../infra/aws/seed.js';
import { startOidcIssuer } from '../../infra/broker/processes.js';
import { repoRoot } from '../../infra/paths.js';
import {
  freePort,
  httpOk,
  type RunningService,
  spawnService,
  stopChild,
  waitUntilReady,
} from '../../infra/process.js';
import { startTemporal } from '../../infra/temporal/server.js';
import { generateSigningKey } from '../../platform/assertion-signer.js';
import { generatePayloadKey } from '../../platform/payload-codec.js';

const host = '127.0.0.1';

export interface BenchStack {
  temporalAddress: string;
  motoUrl: string;
  oidcIssuer: string;
  apiUrl: string;
  taskQueue: string;
  floorTaskQueue: string;
  payloadKeys: string;
  /** Figure 5 starts grants on Temporal directly, signed like a front door. */
  signingKey: string;
  auditFile: string;
  broker: DevCredentials;
  workerPid: number;
  /** Another API process on a database of its own (the list figure); stopped with the stack. */
  startApi(databaseUrl: string): Promise<{ url: string }>;
  /** Why the stack cannot be trusted any more (a broker process died), if it cannot. */
  failure(): string | undefined;
  stop(): Promise<void>;
}

let stopCurrent: (() => Promise<void>) | undefined;
/** Stops whatever the stack being brought up or running has started so far (for signal handlers). */
export const stopBenchStack = () => stopCurrent?.() ?? Promise.resolve();

/** True once a worker with this pid polls the task queue. */
async function polling(address: string, taskQueue: string, pid: number): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 1000 });
  try {
    const { pollers } = await connection.workflowService.describeTaskQueue({
      namespace: 'default',
      taskQueue: { name: taskQueue },
    });
    return pollers.some((p) => p.identity?.startsWith(`${pid}@`));
  } finally {
    await connection.close();
  }
}

// JIT_BENCH_CPU_PROF=<dir>: the worker and the API write V8 CPU profiles there when they stop
// (read them with `npx tsx bench/cpu-top.ts <file>`, or Chrome DevTools).
const cpuProfileDir = process.env.JIT_BENCH_CPU_PROF;
// JIT_BENCH_NODE_FLAGS: extra node/V8 flags for the worker and the API (none by default: TurboFan on).
const nodeFlags = process.env.JIT_BENCH_NODE_FLAGS ?? '';
const profiled = [
  ...(cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : []),
  ...nodeFlags.split(/\s+/).filter(Boolean),
];
const tsEntry = (file: string, ...args: string[]) => ['--import', 'tsx', join(repoRoot, file), ...args];

export async function startBenchStack(
  log: (msg: string) => void,
  /** More settings for the broker's worker and API (bench/tracing.ts turns tracing on with them). */
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<BenchStack> {
  const services: RunningService[] = [];
  const children: ChildProcess[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'jit-bench-'));
  let stopped = false;
  let failure: string | undefined;
  const stop = async () => {
    stopped = true;
    for (const child of children.reverse()) await stopChild(child).catch(() => {});
    for (const service of services.reverse()) await service.stop().catch(() => {});
    rmSync(scratch, { recursive: true, force: true });
  };
  stopCurrent = stop;
  // A service that comes up after a stop began is stopped at once.
  const keep = async (service: RunningService) => {
    if (stopped) await service.stop();
    else services.push(service);
    return service;
  };
  const watch = (name: string, child: ChildProcess) => {
    children.push(child);
    child.once('exit', (code, signal) => {
      if (!stopped) failure ??= `${name} exited (${code ?? signal}) during the run; see .data/logs/`;
    });
  };
  try {
    const [temporal, moto, oidc] = await Promise.all([
      freePort()
        .then((port) =>
          startTemporal({ host, port, uiPort: null, dbFile: null, name: 'bench-temporal', log }),
        )
        .then(keep),
      freePort()
        .then((port) => startMoto({ host, port, name: 'bench-moto', log }))
        .then(keep),
      freePort()
        .then((port) => startOidcIssuer({ host, port, name: 'bench-oidc' }))
        .then(keep),
    ]);
    const { broker } = await seedMoto(moto.url, join(scratch, 'aws'));

    const apiPort = await freePort();
    const taskQueue = 'jit-bench';
    const floorTaskQueue = 'jit-bench-floor';
    const payloadKeys = generatePayloadKey('bench');
    const assertionKeys = generateSigningKey('bench');
    const auditFile = join(scratch, 'audit.sqlite');
    const env: NodeJS.ProcessEnv = {
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      TEMPORAL_ADDRESS: temporal.url,
      TEMPORAL_TASK_QUEUE: taskQueue,
      OIDC_ISSUER: oidc.url,
      AWS_ENDPOINT_URL: moto.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: broker.accessKeyId,
      AWS_SECRET_ACCESS_KEY: broker.secretAccessKey,
      API_HOST: host,
      API_PORT: String(apiPort),
      JIT_PAYLOAD_KEYS: payloadKeys,
      JIT_ASSERTION_SIGNING_KEY: assertionKeys.signingKey,
      JIT_ASSERTION_VERIFY_KEYS: assertionKeys.verificationKey,
      DATABASE_URL: `sqlite:${auditFile}`,
      WORKER_METRICS_PORT: '0',
      ...extraEnv,
    };
    // The worker first: it creates the audit store the API then opens.
    const worker = spawnService(
      'bench-worker',
      process.execPath,
      [...profiled, ...tsEntry('worker/main.ts')],
      env,
    );
    watch('the broker worker', worker.child);
    const floor = spawn(process.execPath, tsEntry('bench/floor-worker.ts', temporal.url, floorTaskQueue), {
      env: { ...process.env, JIT_PAYLOAD_KEYS: payloadKeys },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    watch('the floor worker', floor);
    const workerPid = worker.child.pid ?? 0;
    await waitUntilReady('bench worker', () => polling(temporal.url, taskQueue, workerPid), {
      timeoutMs: 90_000,
      child: worker.child,
      logFile: worker.logFile,
    });
    const api = spawnService('bench-api', process.execPath, [...profiled, ...tsEntry('api/main.ts')], env);
    watch('the API', api.child);
    const apiUrl = `http://${host}:${apiPort}`;
    await Promise.all([
      waitUntilReady('bench api', () => httpOk(`${apiUrl}/readyz`), {
        timeoutMs: 60_000,
        child: api.child,
        logFile: api.logFile,
      }),
      waitUntilReady('bench floor worker', () => polling(temporal.url, floorTaskQueue, floor.pid ?? 0), {
        timeoutMs: 90_000,
        child: floor,
      }),
    ]);
    const startApi = async (databaseUrl: string) => {
      const port = await freePort();
      const extra = spawnService('bench-api-2', process.execPath, tsEntry('api/main.ts'), {
        ...env,
        API_PORT: String(port),
        DATABASE_URL: databaseUrl,
      });
      watch('the second API', extra.child);
      const url = `http://${host}:${port}`;
      await waitUntilReady('bench api 2', () => httpOk(`${url}/readyz`), {
        timeoutMs: 60_000,
        child: extra.child,
        logFile: extra.logFile,
      });
      return { url };
    };
    return {
      startApi,
      temporalAddress: temporal.url,
      motoUrl: moto.url,
      oidcIssuer: oidc.url,
      apiUrl,
      taskQueue,
      floorTaskQueue,
      payloadKeys,
      signingKey: assertionKeys.signingKey,
      auditFile,
      broker,
      workerPid,
      failure: () => failure,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
