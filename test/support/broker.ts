// A whole broker for a test: its own IAM target roles in moto, a policy folder pointing at them,
// a SQLite audit store, and a worker (in this process or as a real child process) on its own
// task queue of the shared test Temporal server.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { ulid } from 'ulid';
import { parse, stringify } from 'yaml';
import { createActivities } from '../../activities/index.js';
import { GrantService } from '../../api/grant-service.js';
import type { GrantView, IssuedCredentials, Principal } from '../../common/grant.js';
import { ensureRole, sampleRoles } from '../../infra/aws/seed.js';
import { devUsers } from '../../infra/oidc/dev-users.js';
import { repoRoot } from '../../infra/paths.js';
import { AssertionSigner, parseSigningKey } from '../../platform/assertion-signer.js';
import { GrantClient } from '../../platform/grant-client.js';
import { POLICIES_DIR, PolicyEngine } from '../../policies/engine.js';
import { type AuditStore, openAuditStore } from '../../store/index.js';
import { createBrokerWorker, startReconciler } from '../../worker/worker.js';
import { freshPostgresDatabase } from './postgres.js';
import {
  adminIam,
  type TestStack,
  temporalClient,
  testDataConverter,
  testPayloadKeys,
  testSigningKey,
  testStack,
  testVerifyKeys,
  uniqueTaskQueue,
  workerConnection,
} from './stack.js';

export type DevUserName = 'alice' | 'bob' | 'carol' | 'dave' | 'erin';

export function principal(name: DevUserName): Principal {
  const user = devUsers.find((u) => u.username === name);
  if (!user) throw new Error(`no dev user ${name}`);
  return { sub: user.sub, email: user.email, groups: [...user.groups] };
}

/** Catalog fields a test may override per role id, in catalog.yaml's own syntax. */
export type CatalogOverrides = Record<string, Record<string, unknown>>;
/** Catalog workloads a test adds to or changes, by name, in catalog.yaml's own syntax. */
export type WorkloadOverrides = Record<string, Record<string, unknown>>;

export interface TestBroker {
  client: Client;
  taskQueue: string;
  /** The broker's audit store (and grants read model). */
  store: AuditStore;
  /** The front door's service, signing with the tests' key: what the API routes call. */
  service: GrantService;
  /** The signed command sender under the service. */
  grants: GrantClient;
  engine: PolicyEngine;
  policyDir: string;
  auditDatabaseUrl: string;
  /** ARN of the IAM role behind each catalog role id. */
  roleArns: Record<string, string>;
  request(
    user: DevUserName,
    roleId: string,
    opts: { durationSeconds: number; reason?: string; ticket?: string },
  ): Promise<WorkflowHandle>;
  /** The grant as the read model shows it. */
  view(grant: WorkflowHandle): Promise<GrantView>;
  approve(grant: WorkflowHandle, user: DevUserName, comment?: string): Promise<GrantView>;
  deny(grant: WorkflowHandle, user: DevUserName, reason: string): Promise<GrantView>;
  cancel(grant: WorkflowHandle, user: DevUserName): Promise<GrantView>;
  revoke(grant: WorkflowHandle, user: DevUserName, reason: string): Promise<GrantView>;
  extend(
    grant: WorkflowHandle,
    user: DevUserName,
    durationSeconds: number,
    reason: string,
  ): Promise<GrantView>;
  credentials(grant: WorkflowHandle, user: DevUserName): Promise<IssuedCredentials>;
  /** Starts this queue's grant reconciler (a pass every `intervalSeconds`). */
  startReconciler(intervalSeconds: number): Promise<void>;
  /** Runs a worker in this process until `stopWorker`. */
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  /** Runs the real worker entry point (worker/main.ts) as a child process. */
  /**
   * Runs the real worker entry point (worker/main.ts) as a child process; `env` overrides its
   * settings. Resolves once a worker polls, or the child has exited (its stderr is in `output`).
   */
  spawnWorker(env?: NodeJS.ProcessEnv): Promise<ChildProcess & { output: () => string }>;
  close(): Promise<void>;
}

/** Creates target roles named after the catalog's, unique to this broker, so tests never share a deny ledger. */
async function createTargetRoles(prefix: string, stack: TestStack): Promise<Record<string, string>> {
  const iam = adminIam(stack);
  try {
    const arns: Record<string, string> = {};
    for (const role of sampleRoles) {
      const name = role.name.replace(/^jit-/, `jit-${prefix}-`);
      await ensureRole(iam, { ...role, name });
      arns[role.name] = `arn:aws:iam::123456789012:role/${name}`;
    }
    return arns;
  } finally {
    iam.destroy();
  }
}

function writePolicyDir(
  arnsBySampleName: Record<string, string>,
  overrides: CatalogOverrides,
  topLevel: Record<string, unknown> = {},
  workloadOverrides: WorkloadOverrides = {},
): { dir: string; roleArns: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), 'jit-policies-'));
  cpSync(POLICIES_DIR, dir, { recursive: true, filter: (src) => !src.endsWith('.ts') });
  const catalog = parse(readFileSync(join(dir, 'catalog.yaml'), 'utf8')) as {
    roles: Record<string, unknown>[];
    workloads?: Record<string, unknown>[];
  };
  Object.assign(catalog, topLevel);
  catalog.workloads ??= [];
  for (const [name, fields] of Object.entries(workloadOverrides)) {
    const existing = catalog.workloads.find((w) => w.name === name);
    if (existing) Object.assign(existing, fields);
    else catalog.workloads.push({ name, description: `test workload ${name}`, ...fields });
  }
  const roleArns: Record<string, string> = {};
  for (const role of catalog.roles) {
    const sampleName = String(role.arn).split('/').pop() as string;
    role.arn = arnsBySampleName[sampleName];
    Object.assign(role, overrides[String(role.id)] ?? {});
    roleArns[String(role.id)] = String(role.arn);
  }
  writeFileSync(join(dir, 'catalog.yaml'), stringify(catalog));
  return { dir, roleArns };
}

export async function startTestBroker(
  opts: {
    overrides?: CatalogOverrides;
    slack?: { botToken: string; apiUrl: string };
    /** The audit store's backend (default SQLite). */
    store?: 'sqlite' | 'postgres';
    /** Top-level catalog sections to replace, e.g. `onCall`. */
    catalog?: Record<string, unknown>;
    /** The worker's directory (JIT_DIRECTORY_FILE): whom reviewer reminders go to. */
    directoryFile?: string;
    workloads?: WorkloadOverrides;
    /** Another moto for everything AWS (the Step Functions tests run their own). */
    motoUrl?: string;
  } = {},
): Promise<TestBroker> {
  const stack = opts.motoUrl ? { ...testStack(), motoUrl: opts.motoUrl } : testStack();
  const prefix = `t${randomBytes(4).toString('hex')}`;
  const { dir: policyDir, roleArns } = writePolicyDir(
    await createTargetRoles(prefix, stack),
    opts.overrides ?? {},
    opts.catalog,
    opts.workloads ?? {},
  );
  const engine = PolicyEngine.load(policyDir);
  const taskQueue = uniqueTaskQueue('grants');
  const scratch = mkdtempSync(join(tmpdir(), 'jit-broker-'));
  const database = opts.store === 'postgres' ? await freshPostgresDatabase('jit_broker') : undefined;
  const auditDatabaseUrl = database?.url ?? `sqlite:${join(scratch, 'audit.sqlite')}`;
  const { client, close: closeClient } = await temporalClient();
  const children: ChildProcess[] = [];

  const config = {
    AWS_REGION: stack.region,
    AWS_ENDPOINT_URL: stack.motoUrl,
    DATABASE_URL: auditDatabaseUrl,
    TEMPORAL_TASK_QUEUE: taskQueue,
    ...(opts.slack ? { SLACK_BOT_TOKEN: opts.slack.botToken, SLACK_API_URL: opts.slack.apiUrl } : {}),
    ...(opts.directoryFile ? { JIT_DIRECTORY_FILE: opts.directoryFile } : {}),
  };
  let inProcess: { worker: Worker; running: Promise<void>; close(): Promise<void> } | undefined;
  const store = await openAuditStore(auditDatabaseUrl);
  const grants = new GrantClient({
    client,
    taskQueue,
    signer: new AssertionSigner(parseSigningKey(testSigningKey), 'api'),
  });
  const service = new GrantService({
    grants,
    store,
    engine,
    console: {
      federationEndpoint: 'http://127.0.0.1:9/federation',
      destination: 'https://console.aws.amazon.com/',
    },
  });
  const as = (user: DevUserName) => principal(user);

  const broker: TestBroker = {
    client,
    taskQueue,
    store,
    service,
    grants,
    engine,
    policyDir,
    auditDatabaseUrl,
    roleArns,

    async request(user, roleId, { durationSeconds, reason = 'testing', ticket }) {
      const { view } = await service.start(
        as(user),
        { role: roleId, durationSeconds, reason, ...(ticket ? { ticket } : {}) },
        { idempotencyKey: ulid() },
      );
      return client.workflow.getHandle(view.id);
    },
    async view(grant) {
      const view = await store.grants.get(grant.workflowId);
      if (!view) throw new Error(`${grant.workflowId} is not in the read model`);
      return view;
    },
    approve: (grant, user, comment) => service.approve(as(user), grant.workflowId, comment),
    deny: (grant, user, reason) => service.deny(as(user), grant.workflowId, reason),
    cancel: (grant, user) => service.cancel(as(user), grant.workflowId),
    revoke: (grant, user, reason) => service.revoke(as(user), grant.workflowId, reason),
    extend: (grant, user, durationSeconds, reason) =>
      service.extend(as(user), grant.workflowId, durationSeconds, reason),
    credentials: (grant, user) => service.credentials(as(user), grant.workflowId),

    startReconciler: (intervalSeconds) => startReconciler(client, taskQueue, intervalSeconds),

    async startWorker() {
      if (inProcess) return;
      // The in-process worker takes AWS credentials from the default chain, as in production.
      process.env.AWS_ACCESS_KEY_ID = stack.broker.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = stack.broker.secretAccessKey;
      const connection = await workerConnection();
      const { activities, close } = await createActivities({ config, engine, client });
      const worker = await createBrokerWorker({
        connection,
        namespace: 'default',
        taskQueue,
        activities,
        dataConverter: testDataConverter(),
        workflowBundle: await sharedWorkflowBundle(),
        assertionVerifyKeys: testVerifyKeys,
      });
      const running = worker.run();
      // A front door refuses commands while no worker polls; wait until this one does.
      const deadline = Date.now() + 10_000;
      while (!(await grants.workerPolls()) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      inProcess = {
        worker,
        running,
        close: async () => {
          await close();
          await connection.close();
        },
      };
    },
    async stopWorker() {
      if (!inProcess) return;
      const { worker, running, close } = inProcess;
      inProcess = undefined;
      worker.shutdown();
      await running;
      await close();
    },
    async spawnWorker(env = {}) {
      const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'worker/main.ts')], {
        env: {
          ...process.env,
          ...config,
          TEMPORAL_ADDRESS: stack.temporalAddress,
          JIT_POLICY_DIR: policyDir,
          JIT_PAYLOAD_KEYS: testPayloadKeys,
          JIT_ASSERTION_VERIFY_KEYS: testVerifyKeys,
          AWS_ACCESS_KEY_ID: stack.broker.accessKeyId,
          AWS_SECRET_ACCESS_KEY: stack.broker.secretAccessKey,
          LOG_LEVEL: 'warn',
          JIT_RECONCILE_INTERVAL: '2',
          WORKER_METRICS_PORT: '0',
          ...env,
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        process.stderr.write(chunk);
      });
      children.push(child);
      // Until this very process polls (the server remembers earlier workers' pollers for minutes),
      // or exits: a worker that refuses to start never polls.
      const polls = async () => {
        const { pollers } = await client.workflowService.describeTaskQueue({
          namespace: client.options.namespace,
          taskQueue: { name: taskQueue },
        });
        return pollers.some((p) => p.identity?.startsWith(`${child.pid}@`));
      };
      const deadline = Date.now() + 60_000;
      while (child.exitCode === null && Date.now() < deadline && !(await polls()))
        await new Promise((r) => setTimeout(r, 100));
      return Object.assign(child, { output: () => stderr });
    },
    async close() {
      await broker.stopWorker();
      for (const child of children) child.kill('SIGKILL');
      await closeClient();
      // Whatever the test did, the read model must equal a fold of the audit trail it left.
      const differences = await store.checkReadModel();
      await store.close();
      await database?.drop();
      rmSync(policyDir, { recursive: true, force: true });
      rmSync(scratch, { recursive: true, force: true });
      if (differences.length > 0) {
        throw new Error(
          `the read model differs from the audit trail: ${JSON.stringify(differences.slice(0, 5))}`,
        );
      }
    },
  };
  return broker;
}

let bundle: Promise<{ code: string }> | undefined;
/** Bundling the workflows takes seconds; one bundle serves every worker of a test file. */
export async function sharedWorkflowBundle(): Promise<{ code: string }> {
  const { bundleWorkflowCode } = await import('@temporalio/worker');
  const { workflowsPath } = await import('../../worker/worker.js');
  const { sharedWorkflowModules } = await import('../../worker/bundle.js');
  bundle ??= bundleWorkflowCode({
    workflowsPath,
    preloadModules: sharedWorkflowModules,
    logger: { warn() {}, info() {}, debug() {}, error: console.error, trace() {}, log() {} },
  });
  return bundle;
}
