// Scale-out and failover (`npm run bench:failover`): one Temporal dev server on a SQLite file, two
// API processes behind a round-robin client, two worker processes, the PostgreSQL audit store, moto
// and the dev OIDC issuer. N grants go through (request, approvals, credentials, revoke or expiry)
// while one worker and one API are killed with SIGKILL and restarted, and the Temporal server is
// restarted once. Then every outcome is checked (see `verify`) and the failover times are reported.
// Writes bench/results/failover.json (--quick: a small run, bench/results/failover-quick.json.tmp).
//   --grants N        grants to put through (default 300, quick 30)
//   --concurrency N   client lanes (default 8)
//   --expiry S        duration of the grants left to expire, seconds (default 45)
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { GetRoleCommand, GetRolePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { Connection } from '@temporalio/client';
import { z } from 'zod';
import { type GrantView, grantView } from '../common/grant.js';
import { REVOCATION_POLICY_NAME, roleNameFromArn } from '../common/revocation-policy.js';
import { startMoto } from '../infra/aws/moto.js';
import { seedMoto } from '../infra/aws/seed.js';
import { startOidcIssuer } from '../infra/broker/processes.js';
import { deviceLogin } from '../infra/oidc/device-login.js';
import { dataDir, repoRoot } from '../infra/paths.js';
import { startPostgres } from '../infra/postgres.js';
import {
  freePort,
  httpOk,
  type RunningService,
  spawnService,
  stopChild,
  waitUntilReady,
} from '../infra/process.js';
import { startTemporal } from '../infra/temporal/server.js';
import { generateSigningKey } from '../platform/assertion-signer.js';
import { generatePayloadKey } from '../platform/payload-codec.js';
import { openAuditStore } from '../store/index.js';
import { type Latency, latency, renderTable, round1, sleep } from './lib/stats.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    grants: { type: 'string' },
    concurrency: { type: 'string' },
    expiry: { type: 'string' },
    out: { type: 'string' },
  },
});
const positive = z.coerce.number().int().positive();
const total = positive.parse(args.grants ?? (args.quick ? 30 : 300));
const lanes = positive.parse(args.concurrency ?? 8);
const expirySeconds = positive.parse(args.expiry ?? 45);
const out =
  args.out ?? join(repoRoot, 'bench', 'results', args.quick ? 'failover-quick.json.tmp' : 'failover.json');
const host = '127.0.0.1';
const say = (msg: string) => process.stdout.write(`${msg}\n`);
const tsEntry = (file: string) => ['--import', 'tsx', join(repoRoot, file)];

// --------------------------------------------------------------------------------------------
// Processes

/** A broker process that can be killed and started again with the same settings. */
class BrokerProcess {
  child: ChildProcess | undefined;
  constructor(
    readonly name: string,
    private readonly entry: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly ready: (pid: number) => Promise<boolean>,
  ) {}
  async start(): Promise<void> {
    const { child, logFile } = spawnService(this.name, process.execPath, tsEntry(this.entry), this.env);
    this.child = child;
    await waitUntilReady(this.name, () => this.ready(child.pid ?? 0), { timeoutMs: 120_000, child, logFile });
  }
  kill9(): void {
    this.child?.kill('SIGKILL');
  }
  async stop(): Promise<void> {
    if (this.child) await stopChild(this.child);
  }
}

async function pollers(address: string, taskQueue: string): Promise<string[]> {
  const connection = await Connection.connect({ address, connectTimeout: 1000 });
  try {
    const { pollers } = await connection.workflowService.describeTaskQueue({
      namespace: 'default',
      taskQueue: { name: taskQueue },
    });
    return pollers.map((p) => p.identity ?? '');
  } finally {
    await connection.close();
  }
}

// --------------------------------------------------------------------------------------------
// The round-robin client

interface CommandRecord {
  grant: number;
  what: string;
  start: number;
  end: number;
  /** Which API answered the successful attempt. */
  api: number;
  attempts: number;
  failures: string[];
}

const apiError = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

class RoundRobin {
  private next = 0;
  readonly records: CommandRecord[] = [];
  constructor(private readonly urls: string[]) {}

  /**
   * One command; 5xx answers and connection errors are retried on the next API with the same
   * Idempotency-Key, so the broker must count it once whatever happened to the earlier attempts.
   */
  async send(
    grant: number,
    what: string,
    method: 'GET' | 'POST',
    path: string,
    token: string,
    opts: { body?: unknown; key?: string; ok?: number[] } = {},
  ): Promise<{ status: number; body: unknown }> {
    const started = performance.now();
    const failures: string[] = [];
    const deadline = started + 180_000;
    for (let attempt = 1; ; attempt++) {
      const api = this.next++ % this.urls.length;
      try {
        const res = await fetch(`${this.urls[api]}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(opts.key ? { 'idempotency-key': opts.key } : {}),
            ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
          signal: AbortSignal.timeout(30_000),
        });
        const body: unknown = await res.json().catch(() => ({}));
        if (res.status < 500) {
          if (opts.ok && !opts.ok.includes(res.status)) {
            throw new Error(`${what} of grant ${grant}: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
          }
          this.records.push({
            grant,
            what,
            start: started,
            end: performance.now(),
            api,
            attempts: attempt,
            failures,
          });
          return { status: res.status, body };
        }
        const parsed = apiError.safeParse(body);
        failures.push(`${res.status} ${parsed.success ? parsed.data.error.code : ''}`.trim());
      } catch (err) {
        if ((err as Error).message.startsWith(`${what} of grant`)) throw err;
        failures.push(`network ${(err as Error).name}`);
      }
      if (performance.now() > deadline) {
        throw new Error(`${what} of grant ${grant}: no success in 180 s (${failures.slice(-3).join(', ')})`);
      }
      await sleep(Math.min(2000, 100 * 2 ** Math.min(attempt, 4)));
    }
  }
}

// --------------------------------------------------------------------------------------------
// The grants

type Scenario = 'readonly-revoked' | 'admin-approved-revoked' | 'readonly-expired';
const scenarioOf = (i: number): Scenario =>
  (['readonly-revoked', 'admin-approved-revoked', 'readonly-expired'] as const)[i % 3] as Scenario;
const expectedStatus: Record<Scenario, GrantView['status']> = {
  'readonly-revoked': 'revoked',
  'admin-approved-revoked': 'revoked',
  'readonly-expired': 'expired',
};
/** The audit rows each scenario must leave, once each. */
const expectedEvents: Record<Scenario, string[]> = {
  'readonly-revoked': ['grant.requested', 'grant.activated', 'grant.credentials_issued', 'grant.revoked'],
  'admin-approved-revoked': [
    'grant.requested',
    'grant.approval_recorded',
    'grant.approval_recorded',
    'grant.activated',
    'grant.credentials_issued',
    'grant.revoked',
  ],
  'readonly-expired': ['grant.requested', 'grant.activated', 'grant.credentials_issued', 'grant.expired'],
};

interface GrantRun {
  i: number;
  scenario: Scenario;
  id?: string;
  requester: 'alice' | 'erin';
  credentialsAt?: number;
  error?: string;
}

async function runGrant(client: RoundRobin, tokens: Record<string, string>, run: GrantRun): Promise<void> {
  const token = tokens[run.requester] as string;
  const view = async () =>
    grantView.parse(
      (await client.send(run.i, 'read', 'GET', `/v1/requests/${run.id}`, token, { ok: [200] })).body,
    );
  const admin = run.scenario === 'admin-approved-revoked';
  const started = await client.send(run.i, 'request', 'POST', '/v1/requests', token, {
    key: `g${run.i}-request`,
    ok: [200, 201, 202],
    body: {
      role: admin ? 'prod-admin' : 'prod-readonly',
      duration: run.scenario === 'readonly-expired' ? expirySeconds : admin ? '1h' : '30m',
      reason: `failover bench ${run.i}`,
      ...(admin ? { ticket: `INC-${run.i}` } : {}),
    },
  });
  run.id = grantView.parse(started.body).id;
  if (admin) {
    for (const reviewer of ['bob', 'carol']) {
      await client.send(
        run.i,
        'approve',
        'POST',
        `/v1/requests/${run.id}/approve`,
        tokens[reviewer] as string,
        {
          key: `g${run.i}-approve-${reviewer}`,
          ok: [200],
          body: { comment: 'ok' },
        },
      );
    }
  }
  for (let polls = 0; (await view()).status !== 'active'; polls++) {
    if (polls > 600) throw new Error(`grant ${run.i} never became active`);
    await sleep(100);
  }
  await client.send(run.i, 'credentials', 'POST', `/v1/requests/${run.id}/credentials`, token, {
    key: `g${run.i}-credentials`,
    ok: [200],
    body: {},
  });
  run.credentialsAt = Date.now();
  if (run.scenario !== 'readonly-expired') {
    await client.send(run.i, 'revoke', 'POST', `/v1/requests/${run.id}/revoke`, token, {
      key: `g${run.i}-revoke`,
      ok: [200],
      body: { reason: 'done' },
    });
  }
}

// --------------------------------------------------------------------------------------------

interface Fault {
  what: string;
  /** performance.now() at the kill (or the stop of Temporal). */
  at: number;
  /** When the process answered again (API ready, worker polling, Temporal reachable). */
  backAt?: number;
  /** Which API index was killed, for "the next success through the killed path". */
  api?: number;
}

async function main(): Promise<void> {
  const services: RunningService[] = [];
  const processes: BrokerProcess[] = [];
  const scratch = join(dataDir, 'bench-failover');
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  let temporal: RunningService | undefined;
  const cleanup = async () => {
    for (const p of processes) await p.stop().catch(() => {});
    await temporal?.stop().catch(() => {});
    for (const s of services.reverse()) await s.stop().catch(() => {});
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  try {
    const temporalPort = await freePort();
    const temporalDb = join(scratch, 'temporal.db');
    const startTemporalServer = () =>
      startTemporal({
        host,
        port: temporalPort,
        uiPort: null,
        dbFile: temporalDb,
        name: 'failover-temporal',
        log: say,
      });
    const [t, moto, oidc, postgres] = await Promise.all([
      startTemporalServer(),
      freePort().then((port) => startMoto({ host, port, name: 'failover-moto', log: say })),
      freePort().then((port) => startOidcIssuer({ host, port, name: 'failover-oidc' })),
      freePort().then((port) => startPostgres({ dataDir: join(scratch, 'postgres'), port, log: say })),
    ]);
    temporal = t;
    services.push(moto, oidc, { name: 'postgres', url: postgres.url, reused: false, stop: postgres.stop });
    const { broker, admin } = await seedMoto(moto.url, join(scratch, 'aws'));

    const taskQueue = 'jit-failover';
    const keys = generateSigningKey('failover');
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
      JIT_PAYLOAD_KEYS: generatePayloadKey('failover'),
      JIT_ASSERTION_SIGNING_KEY: keys.signingKey,
      JIT_ASSERTION_VERIFY_KEYS: keys.verificationKey,
      DATABASE_URL: postgres.url,
      JIT_RECONCILE_INTERVAL: '10',
    };
    const temporalAddress = temporal.url;
    const workers = [1, 2].map(
      (n) =>
        new BrokerProcess(`failover-worker-${n}`, 'worker/main.ts', env, async (pid) =>
          (await pollers(temporalAddress, taskQueue)).some((id) => id.startsWith(`${pid}@`)),
        ),
    );
    const apiPorts = [await freePort(), await freePort()];
    const apiUrls = apiPorts.map((port) => `http://${host}:${port}`);
    const apis = apiPorts.map(
      (port, n) =>
        new BrokerProcess(`failover-api-${n + 1}`, 'api/main.ts', { ...env, API_PORT: String(port) }, () =>
          httpOk(`${apiUrls[n]}/readyz`),
        ),
    );
    processes.push(...workers, ...apis);
    // Workers first: the first creates the audit schema the APIs open.
    await workers[0]?.start();
    await Promise.all([workers[1]?.start(), ...apis.map((a) => a.start())]);
    say(`stack up: Temporal ${temporal.url} (SQLite ${temporalDb}), APIs ${apiUrls.join(' ')}, 2 workers`);

    const tokens: Record<string, string> = {};
    for (const user of ['alice', 'erin', 'bob', 'carol'])
      tokens[user] = (await deviceLogin({ issuer: oidc.url, user })).access_token;

    // ---- the run
    const client = new RoundRobin(apiUrls);
    const runs: GrantRun[] = Array.from({ length: total }, (_, i) => ({
      i,
      scenario: scenarioOf(i),
      // erin is on call: policies.cedar lets her prod-admin requests through with one approval.
      requester: scenarioOf(i) === 'admin-approved-revoked' || i % 2 === 0 ? 'alice' : 'erin',
    }));
    let done = 0;
    const faults: Fault[] = [];
    const t0 = performance.now();
    let next = 0;
    const lane = async () => {
      for (let i = next++; i < total; i = next++) {
        const run = runs[i] as GrantRun;
        try {
          await runGrant(client, tokens, run);
        } catch (err) {
          run.error = (err as Error).message;
        }
        done += 1;
      }
    };
    const waitFor = async (fraction: number) => {
      while (done < total * fraction) await sleep(50);
    };
    const chaos = async () => {
      await waitFor(0.15);
      const w: Fault = { what: 'kill -9 worker 1, restart', at: performance.now() };
      faults.push(w);
      workers[0]?.kill9();
      await sleep(1000);
      await workers[0]?.start();
      w.backAt = performance.now();
      say(`worker 1 killed and back in ${Math.round(w.backAt - w.at)} ms`);

      await waitFor(0.35);
      const a: Fault = { what: 'kill -9 API 1, restart', at: performance.now(), api: 0 };
      faults.push(a);
      apis[0]?.kill9();
      await sleep(1000);
      await apis[0]?.start();
      a.backAt = performance.now();
      say(`API 1 killed and back in ${Math.round(a.backAt - a.at)} ms`);

      await waitFor(0.6);
      const tr: Fault = { what: 'restart the Temporal dev server (same SQLite file)', at: performance.now() };
      faults.push(tr);
      await temporal?.stop();
      temporal = await startTemporalServer();
      tr.backAt = performance.now();
      say(`Temporal restarted in ${Math.round(tr.backAt - tr.at)} ms`);
    };
    await Promise.all([...Array.from({ length: lanes }, lane), chaos()]);
    const runMs = performance.now() - t0;
    say(`${total} grants driven in ${Math.round(runMs / 1000)} s; checking the outcome ...`);

    // ---- the checks
    const problems: string[] = [];
    for (const run of runs) if (run.error) problems.push(`grant ${run.i}: ${run.error}`);
    // Expiring grants end on their own; wait for the last one.
    await sleep(expirySeconds * 1000 + 5000);
    const views = new Map<number, GrantView>();
    const settleBy = Date.now() + 120_000;
    for (const run of runs) {
      if (!run.id) continue;
      for (;;) {
        const res = await client.send(
          run.i,
          'check',
          'GET',
          `/v1/requests/${run.id}`,
          tokens[run.requester] as string,
          {
            ok: [200],
          },
        );
        const view = grantView.parse(res.body);
        views.set(run.i, view);
        if (view.status === expectedStatus[run.scenario] || Date.now() > settleBy) break;
        await sleep(500);
      }
      const view = views.get(run.i) as GrantView;
      if (view.status !== expectedStatus[run.scenario])
        problems.push(
          `grant ${run.i} (${run.scenario}) is ${view.status}, not ${expectedStatus[run.scenario]}`,
        );
      // Credentials for an ended grant are refused, through either API.
      try {
        const late = await client.send(
          run.i,
          'late credentials',
          'POST',
          `/v1/requests/${run.id}/credentials`,
          tokens[run.requester] as string,
          { body: {}, key: `g${run.i}-late` },
        );
        if (late.status !== 409)
          problems.push(`grant ${run.i}: credentials after its end answered ${late.status}`);
      } catch (err) {
        problems.push(`grant ${run.i}: ${(err as Error).message}`);
      }
    }

    const store = await openAuditStore(postgres.url);
    let auditRows = 0;
    let chain: Awaited<ReturnType<typeof store.verify>>;
    try {
      for (const run of runs) {
        if (!run.id) continue;
        let text = '';
        for await (const chunk of store.exportEvents({ grantId: run.id }, 'jsonl')) text += chunk;
        const events = text
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as { type: string; occurredAt: string; eventId: string });
        auditRows += events.length;
        const types = events.map((e) => e.type).sort();
        const expected = [...expectedEvents[run.scenario]].sort();
        if (JSON.stringify(types) !== JSON.stringify(expected))
          problems.push(
            `grant ${run.i} (${run.scenario}): audit rows ${types.join(',')}, expected ${expected.join(',')}`,
          );
        const end = events.find((e) => e.type === 'grant.revoked' || e.type === 'grant.expired');
        for (const issued of events.filter((e) => e.type === 'grant.credentials_issued')) {
          if (end && issued.occurredAt > end.occurredAt)
            problems.push(
              `grant ${run.i}: credentials issued at ${issued.occurredAt}, after its end at ${end.occurredAt}`,
            );
        }
      }
      chain = await store.verify();
      if (!chain.ok) problems.push(`audit chain broken: ${JSON.stringify(chain.firstBroken)}`);
    } finally {
      await store.close();
    }

    // Every session still valid after its grant ended must be denied by its role's ledger.
    const iam = new IAMClient({
      region: 'us-east-1',
      endpoint: moto.url,
      credentials: { accessKeyId: admin.accessKeyId, secretAccessKey: admin.secretAccessKey },
    });
    let sessionsChecked = 0;
    try {
      const ledgerOf = async (roleArn: string) => {
        const RoleName = roleNameFromArn(roleArn);
        const role = await iam.send(new GetRoleCommand({ RoleName }));
        const policy = await iam
          .send(new GetRolePolicyCommand({ RoleName, PolicyName: REVOCATION_POLICY_NAME }))
          .catch(() => ({ PolicyDocument: undefined }));
        const doc = JSON.parse(decodeURIComponent(policy.PolicyDocument ?? '{"Statement":[]}')) as {
          Statement: { Condition: Record<string, Record<string, string | string[]>> }[];
        };
        const ids = new Set<string>();
        let issuedBefore: string | undefined;
        for (const s of doc.Statement) {
          const listed = s.Condition.StringEquals?.['aws:userid'];
          for (const id of Array.isArray(listed) ? listed : listed ? [listed] : []) ids.add(id);
          const before = s.Condition.DateLessThan?.['aws:TokenIssueTime'];
          if (typeof before === 'string') issuedBefore = before;
        }
        return { roleId: role.Role?.RoleId ?? '', ids, issuedBefore };
      };
      const uncovered = async () => {
        const ledgers = new Map<string, Awaited<ReturnType<typeof ledgerOf>>>();
        const missing: string[] = [];
        sessionsChecked = 0;
        for (const [i, view] of views) {
          const arn = view.role.arn as string;
          if (!ledgers.has(arn)) ledgers.set(arn, await ledgerOf(arn));
          const ledger = ledgers.get(arn) as Awaited<ReturnType<typeof ledgerOf>>;
          for (const session of view.sessions) {
            if (
              !view.endedAt ||
              session.expiresAt <= view.endedAt ||
              Date.parse(session.expiresAt) <= Date.now()
            )
              continue;
            sessionsChecked += 1;
            const covered =
              ledger.ids.has(`${ledger.roleId}:${session.sessionName}`) ||
              (ledger.issuedBefore !== undefined &&
                session.issuedAt !== undefined &&
                session.issuedAt < ledger.issuedBefore);
            if (!covered) missing.push(`grant ${i}: session ${session.sessionName}`);
          }
        }
        return missing;
      };
      let missing = await uncovered();
      // The ledger batches its writes: give it a moment.
      for (let tries = 0; missing.length > 0 && tries < 30; tries++) {
        await sleep(2000);
        missing = await uncovered();
      }
      for (const m of missing) problems.push(`${m} outlives its grant and is not in the ledger`);
    } finally {
      iam.destroy();
    }

    // ---- failover figures
    // Successful commands of the run (a command that never succeeded is in `problems` instead).
    const records = client.records.filter((r) => r.what !== 'check' && r.what !== 'late credentials');
    const retried = records.filter((r) => r.attempts > 1);
    const figures = faults.map((f) => {
      const after = (r: CommandRecord) => r.start >= f.at;
      // Reads come from the read model (PostgreSQL) and need neither Temporal nor a worker.
      const firstSuccess = records
        .filter((r) => after(r) && r.what !== 'read')
        .sort((a, b) => a.end - b.end)[0];
      const viaKilled =
        f.api === undefined
          ? undefined
          : records
              .filter((r) => r.api === f.api && r.end > f.at && r.what !== 'read')
              .sort((a, b) => a.end - b.end)[0];
      // Commands in flight at the fault or started within 5 s after it: the longest any client waited.
      const touched = records.filter((r) => r.end > f.at && r.start < f.at + 5000);
      return {
        fault: f.what,
        processBackMs: f.backAt ? Math.round(f.backAt - f.at) : undefined,
        firstCommandSuccessMs: firstSuccess ? Math.round(firstSuccess.end - f.at) : undefined,
        ...(viaKilled ? { firstSuccessThroughKilledApiMs: Math.round(viaKilled.end - f.at) } : {}),
        longestClientWaitMs: Math.round(Math.max(0, ...touched.map((r) => r.end - r.start))),
        commandsRetried: touched.filter((r) => r.attempts > 1).length,
      };
    });
    const commandLatency: Latency = latency(records.map((r) => r.end - r.start));
    const result = {
      when: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model,
        memoryGiB: round1(totalmem() / 2 ** 30),
        node: process.version,
      },
      setup: {
        grants: total,
        lanes,
        expirySeconds,
        apis: 2,
        workers: 2,
        store: 'postgres',
        temporal: 'dev server, SQLite file',
      },
      runSeconds: round1(runMs / 1000),
      grantsPerSecond: round1(total / (runMs / 1000)),
      commands: records.length,
      commandsRetried: retried.length,
      commandLatencyMs: commandLatency,
      auditRows,
      chain: { ok: chain.ok, rowsChecked: chain.rowsChecked },
      sessionsOutlivingGrantsChecked: sessionsChecked,
      faults: figures,
      problems,
    };
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    say(
      renderTable([
        ['fault', 'process back', 'first success', 'via killed API', 'longest wait', 'retried'],
        ...figures.map((f) => [
          f.fault,
          `${f.processBackMs} ms`,
          `${f.firstCommandSuccessMs} ms`,
          f.firstSuccessThroughKilledApiMs === undefined ? '' : `${f.firstSuccessThroughKilledApiMs} ms`,
          `${f.longestClientWaitMs} ms`,
          String(f.commandsRetried),
        ]),
      ]),
    );
    say(
      `${total} grants in ${result.runSeconds} s (${result.grantsPerSecond}/s), ${records.length} commands (${retried.length} retried), ` +
        `${auditRows} audit rows, chain ${chain.ok ? 'verifies' : 'BROKEN'} (${chain.rowsChecked} rows), ` +
        `${sessionsChecked} sessions outliving their grants all in the ledger; on ${cpus().length} CPUs`,
    );
    say(`written to ${out}`);
    if (problems.length > 0) {
      say(`${problems.length} problem(s):\n  ${problems.slice(0, 30).join('\n  ')}`);
      process.exitCode = 1;
    } else say('every check passed');
  } finally {
    await cleanup();
  }
}

await main();
