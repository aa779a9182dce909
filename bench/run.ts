// The broker benchmark (`npm run bench`, `npm run bench -- --quick`): brings up a private stack
// (bench/lib/stack.ts), measures the floor (a trivial workflow with one Update on the same Temporal
// server, and one STS call on the same moto), then the six figures of issue 8, each as an absolute
// number and as a ratio to the floor. Prints a table and writes JSON (bench/results/broker.json;
// the quick run writes bench/results/broker-quick.json.tmp, git-ignored). Options:
//   --quick         a small version (the test suite runs it; no timing is asserted anywhere)
//   --grants N      figure 5's number of concurrently active grants (default 10000, quick 100)
//   --out FILE      where the JSON goes

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { Client, Connection } from '@temporalio/client';
import { ulid } from 'ulid';
import type { Principal } from '../common/grant.js';
import { toSourceIdentity } from '../common/sts-limits.js';
import { devUsers } from '../infra/oidc/dev-users.js';
import { deviceLogin } from '../infra/oidc/device-login.js';
import { repoRoot } from '../infra/paths.js';
import { AssertionSigner, parseSigningKey } from '../platform/assertion-signer.js';
import { brokerDataConverter } from '../platform/data-converter.js';
import { GrantClient } from '../platform/grant-client.js';
import { parsePayloadKeys } from '../platform/payload-codec.js';
import { finishUpdate } from './floor-workflow.js';
import { AuditTail } from './lib/audit-tail.js';
import { type GrantListResult, measureGrantList, seedGrantList } from './lib/grant-list.js';
import { ApiClient, type OpenLoopResult, openLoop } from './lib/http.js';
import { type BenchStack, startBenchStack, stopBenchStack } from './lib/stack.js';
import { type Latency, latency, pool, renderTable, round1, round2, sleep } from './lib/stats.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    grants: { type: 'string' },
    out: { type: 'string' },
  },
});
const quick = args.quick;
const size = quick
  ? {
      warmUp: 3,
      floorSeq: 20,
      floorConc: 32,
      bare: 100,
      bareConc: 32,
      f1Seq: 10,
      f1Conc: 16,
      f6Rate: 100,
      f6Seconds: 2,
      f6WarmUpSeconds: 1,
      f2: 3,
      f3: 5,
      f3Seconds: 3,
      f3SpreadMs: 500,
      f4: 16,
      f4Conc: 8,
      f5: 40,
      f5Pilot: 10,
      f5PilotSeconds: 2,
      f5SlackSeconds: 3,
      f7Grants: 2_000,
      f7Requests: 50,
    }
  : {
      warmUp: 10,
      floorSeq: 200,
      floorConc: 400,
      bare: 2000,
      bareConc: 64,
      f1Seq: 200,
      f1Conc: 200,
      f6Rate: 500,
      f6Seconds: 30,
      f6WarmUpSeconds: 2,
      f2: 200,
      f3: 200,
      f3Seconds: 15,
      f3SpreadMs: 10_000,
      f4: 600,
      f4Conc: 32,
      f5: 10_000,
      f5Pilot: 200,
      f5PilotSeconds: 5,
      f5SlackSeconds: 15,
      f7Grants: 100_000,
      f7Requests: 500,
    };
if (args.grants) size.f5 = Number(args.grants.replaceAll('_', ''));
if (!Number.isInteger(size.f5) || size.f5 <= 0) throw new Error('--grants must be a positive integer');
const CONC = 16; // figure 1's concurrency
const out = args.out ?? join(repoRoot, 'bench', 'results', quick ? 'broker-quick.json.tmp' : 'broker.json');

const say = (msg: string) => process.stdout.write(`${msg}\n`);
const principal = (name: string): Principal => {
  const user = devUsers.find((u) => u.username === name);
  if (!user) throw new Error(`no dev user ${name}`);
  return { sub: user.sub, email: user.email, groups: [...user.groups] };
};

// ---------------------------------------------------------------------------------------------

interface Errors {
  count: number;
  first?: string;
}
const newErrors = (): Errors => ({ count: 0 });
const noteError = (errors: Errors, err: unknown) => {
  errors.count += 1;
  errors.first ??= err instanceof Error ? err.message : String(err);
};

/** Latencies of `task` run `total` times at `concurrency`; failures are counted, not timed. */
async function timed(
  total: number,
  concurrency: number,
  task: (i: number) => Promise<number>,
): Promise<{ latency: Latency; errors: Errors; wallMs: number; perSecond: number }> {
  const samples: number[] = [];
  const errors = newErrors();
  const wallMs = await pool(total, concurrency, async (i) => {
    try {
      samples.push(await task(i));
    } catch (err) {
      noteError(errors, err);
    }
  });
  return {
    latency: latency(samples),
    errors,
    wallMs: Math.round(wallMs),
    perSecond: round1(total / (wallMs / 1000)),
  };
}

type Timed = Awaited<ReturnType<typeof timed>>;
interface Results {
  floor: { sequential: Timed; concurrent: Timed; bare: Timed; stsSequential: Timed; stsConcurrent: Timed };
  f1: { sequential: Timed; concurrent: Timed; legs: { request: Latency; credentials: Latency } };
  f6: OpenLoopResult & { distinctGrants: number };
  f2: Timed;
  f3: {
    grants: number;
    errors: Errors;
    expiredRecorded: Latency;
    ledgerRecorded: Latency;
    endToEnd: Latency;
  };
  f4: {
    lifecycles: number;
    concurrency: number;
    errors: Errors;
    perSecond: number;
    seconds: number;
    apiLegPerSecond: number;
    lifecycleLatency: Latency;
    auditEventTypesPerGrant: number;
  };
  f5: Awaited<ReturnType<typeof manyGrants>>;
  f7: GrantListResult;
}

async function main(stack: BenchStack, stopping: { now: boolean }): Promise<void> {
  const keys = parsePayloadKeys(stack.payloadKeys);
  const connection = await Connection.connect({ address: stack.temporalAddress });
  const client = new Client({ connection, dataConverter: brokerDataConverter(keys) });
  const api = new ApiClient(stack.apiUrl);
  const sts = new STSClient({
    region: 'us-east-1',
    endpoint: stack.motoUrl,
    credentials: { accessKeyId: stack.broker.accessKeyId, secretAccessKey: stack.broker.secretAccessKey },
  });
  const tail = new AuditTail(stack.auditFile);
  tail.start(50);
  const tokens = new Map<string, { token: string; at: number }>();
  const token = async (user: string) => {
    const cached = tokens.get(user);
    if (cached && Date.now() - cached.at < 30 * 60_000) return cached.token;
    const { access_token } = await deviceLogin({ issuer: stack.oidcIssuer, user });
    tokens.set(user, { token: access_token, at: Date.now() });
    return access_token;
  };
  const results: Partial<Results> = {};
  let failure: string | undefined;
  const check = () => {
    if (stopping.now) throw new Error('interrupted');
    const failure = stack.failure();
    if (failure) throw new Error(failure);
  };

  try {
    // ---- the floor --------------------------------------------------------------------------
    say('floor: trivial workflow, start + one Update, on the same Temporal server');
    const floorOnce = async () => {
      const started = performance.now();
      const handle = await client.workflow.start('floorWorkflow', {
        taskQueue: stack.floorTaskQueue,
        workflowId: `floor-${ulid()}`,
        args: [],
      });
      await handle.executeUpdate(finishUpdate, { args: ['x'] });
      return performance.now() - started;
    };
    await timed(size.warmUp, 1, floorOnce); // warm-up
    const floorSeq = await timed(size.floorSeq, 1, floorOnce);
    const floorConc = await timed(size.floorConc, CONC, floorOnce);
    check();
    say('floor: bare workflow throughput (start, Update, complete)');
    const bare = await timed(size.bare, size.bareConc, async () => {
      const handle = await client.workflow.start('floorWorkflow', {
        taskQueue: stack.floorTaskQueue,
        workflowId: `floor-${ulid()}`,
        args: [],
      });
      await handle.executeUpdate(finishUpdate, { args: ['x'] });
      await handle.result();
      return 0;
    });
    check();
    say('floor: one STS AssumeRole on moto, as the broker calls it');
    const roleArn = 'arn:aws:iam::123456789012:role/jit-prod-readonly';
    const stsOnce = async (i: number) => {
      const started = performance.now();
      await sts.send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: `bench-floor-${i}`,
          SourceIdentity: toSourceIdentity('alice@example.test'),
          DurationSeconds: 900,
          Tags: [
            { Key: 'jit-grant', Value: `grant-floor-${i}` },
            { Key: 'jit-requester', Value: 'alice' },
            { Key: 'jit-ticket', Value: 'none' },
          ],
        }),
      );
      return performance.now() - started;
    };
    await timed(size.warmUp, 1, stsOnce);
    const stsSeq = await timed(size.floorSeq, 1, stsOnce);
    const stsConc = await timed(size.floorConc, CONC, stsOnce);
    results.floor = {
      sequential: floorSeq,
      concurrent: floorConc,
      bare,
      stsSequential: stsSeq,
      stsConcurrent: stsConc,
    };
    check();

    // ---- 1: auto-approved request -> credentials in hand --------------------------------------
    say('1: auto-approved request -> credentials (POST request, POST credentials)');
    const alice = await token('alice');
    const activeGrants: string[] = [];
    const legs = { request: [] as number[], credentials: [] as number[] };
    const requestToCredentials = (reason: string) => async () => {
      const started = performance.now();
      const res = await api.expect([201], 'POST', '/v1/requests', alice, {
        role: 'prod-readonly',
        duration: '30m',
        reason,
      });
      const id = res.body.id as string;
      activeGrants.push(id);
      const creds = await api.expect([200], 'POST', `/v1/requests/${id}/credentials`, alice, {});
      if (!creds.body.AccessKeyId || !creds.body.SessionToken)
        throw new Error('no credentials in the answer');
      legs.request.push(res.ms);
      legs.credentials.push(creds.ms);
      return performance.now() - started;
    };
    await timed(size.warmUp, 1, requestToCredentials('bench: warm-up'));
    const f1Seq = await timed(size.f1Seq, 1, requestToCredentials('bench: figure 1 sequential'));
    const f1Conc = await timed(size.f1Conc, CONC, requestToCredentials('bench: figure 1 concurrent'));
    // Each leg over both runs: where the time goes.
    results.f1 = {
      sequential: f1Seq,
      concurrent: f1Conc,
      legs: { request: latency(legs.request), credentials: latency(legs.credentials) },
    };
    check();

    // ---- 6: GET /v1/requests/{id} at a fixed rate -------------------------------------------------
    say(`6: GET /v1/requests/{id} at ${size.f6Rate}/s for ${size.f6Seconds} s (open loop)`);
    const targets = activeGrants.slice(0, 200);
    const path = (i: number) => `/v1/requests/${targets[i % targets.length]}`;
    await openLoop(api, {
      rate: Math.min(100, size.f6Rate),
      seconds: size.f6WarmUpSeconds,
      path,
      token: alice,
    }); // warm-up
    const f6: OpenLoopResult = await openLoop(api, {
      rate: size.f6Rate,
      seconds: size.f6Seconds,
      path,
      token: alice,
    });
    results.f6 = { ...f6, distinctGrants: targets.length };
    check();

    // ---- 2: last approval -> grant active ------------------------------------------------------
    say('2: last approval -> grant active (prod-admin, 2 approvals)');
    const bob = await token('bob');
    const carol = await token('carol');
    const lastApproval = async () => {
      const res = await api.expect([202], 'POST', '/v1/requests', alice, {
        role: 'prod-admin',
        duration: '1h',
        reason: 'bench: figure 2',
        ticket: 'INC-8',
      });
      const id = res.body.id as string;
      activeGrants.push(id);
      await api.expect([200], 'POST', `/v1/requests/${id}/approve`, bob, { comment: 'ok' });
      const started = performance.now();
      const done = await api.expect([200], 'POST', `/v1/requests/${id}/approve`, carol, {});
      const ms = performance.now() - started;
      if (done.body.status !== 'active') throw new Error(`last approval answered status ${done.body.status}`);
      return ms;
    };
    await timed(Math.min(3, size.warmUp), 1, lastApproval);
    const f2 = await timed(size.f2, 1, lastApproval);
    results.f2 = f2;
    check();

    // These grants stay active (30 min, 1 h) through the figures below: revoking 600 of them in a
    // burst crashed the API three runs out of three (a V8 fatal error, README "Performance").
    check();

    // ---- 3: grant end -> expired and the ledger's deny entry ----------------------------------
    say(
      `3: grant end -> status expired + ledger deny entry (${size.f3} grants of ${size.f3Seconds} s, with credentials)`,
    );
    const f3Ids: string[] = [];
    const f3Errors = newErrors();
    const f3Start = performance.now();
    await pool(size.f3, 8, async (i) => {
      const due = f3Start + (i * size.f3SpreadMs) / size.f3;
      if (due > performance.now()) await sleep(due - performance.now());
      try {
        const res = await api.expect([201], 'POST', '/v1/requests', alice, {
          role: 'prod-readonly',
          duration: size.f3Seconds,
          reason: 'bench: figure 3',
        });
        await api.expect([200], 'POST', `/v1/requests/${res.body.id}/credentials`, alice, {});
        f3Ids.push(res.body.id as string);
      } catch (err) {
        noteError(f3Errors, err);
      }
    });
    const f3Done = (id: string) => {
      const g = tail.grants.get(id);
      return Boolean(g?.recorded.has('grant.expired') && g.ledgerRecordedAt !== undefined);
    };
    await tail.until(() => f3Ids.every(f3Done), size.f3Seconds * 1000 + 120_000, 'figure 3 grants to end');
    const f3Lag = {
      expiredRecorded: [] as number[],
      ledgerRecorded: [] as number[],
      endToEnd: [] as number[],
    };
    for (const id of f3Ids) {
      const g = tail.grants.get(id);
      if (!g?.expiresAt || g.ledgerRecordedAt === undefined) continue;
      const expired = (g.recorded.get('grant.expired') as number) - g.expiresAt;
      const ledger = g.ledgerRecordedAt - g.expiresAt;
      f3Lag.expiredRecorded.push(expired);
      f3Lag.ledgerRecorded.push(ledger);
      f3Lag.endToEnd.push(Math.max(expired, ledger));
    }
    results.f3 = {
      grants: f3Ids.length,
      errors: f3Errors,
      expiredRecorded: latency(f3Lag.expiredRecorded),
      ledgerRecorded: latency(f3Lag.ledgerRecorded),
      endToEnd: latency(f3Lag.endToEnd),
    };
    check();

    // ---- 4: complete lifecycles per second at saturation ---------------------------------------
    say(
      `4: complete lifecycles at concurrency ${size.f4Conc} (request, active, credentials, revoke, ledger, audit)`,
    );
    const f4Ids: string[] = [];
    const f4StartWall = Date.now();
    const f4Api = await timed(size.f4, size.f4Conc, async () => {
      const started = performance.now();
      const res = await api.expect([201], 'POST', '/v1/requests', alice, {
        role: 'prod-readonly',
        duration: '30m',
        reason: 'bench: figure 4',
      });
      const id = res.body.id as string;
      await api.expect([200], 'POST', `/v1/requests/${id}/credentials`, alice, {});
      const revoked = await api.expect([200], 'POST', `/v1/requests/${id}/revoke`, alice, { reason: 'done' });
      if (revoked.body.status !== 'revoked') throw new Error(`revoke answered status ${revoked.body.status}`);
      f4Ids.push(id);
      return performance.now() - started;
    });
    const f4Complete = (id: string) => {
      const g = tail.grants.get(id);
      return Boolean(g?.recorded.has('grant.revoked') && g.ledgerRecordedAt !== undefined);
    };
    await tail.until(() => f4Ids.every(f4Complete), 120_000, 'figure 4 lifecycles to complete');
    let f4EndWall = f4StartWall;
    let f4AuditRows = 0;
    for (const id of f4Ids) {
      const g = tail.grants.get(id);
      if (!g) continue;
      f4EndWall = Math.max(f4EndWall, g.recorded.get('grant.revoked') ?? 0, g.ledgerRecordedAt ?? 0);
      f4AuditRows += g.recorded.size;
    }
    const f4Seconds = (f4EndWall - f4StartWall) / 1000;
    results.f4 = {
      lifecycles: f4Ids.length,
      concurrency: size.f4Conc,
      errors: f4Api.errors,
      perSecond: round1(f4Ids.length / f4Seconds),
      seconds: round2(f4Seconds),
      apiLegPerSecond: f4Api.perSecond,
      lifecycleLatency: f4Api.latency,
      auditEventTypesPerGrant: round2(f4AuditRows / Math.max(1, f4Ids.length)),
    };
    check();

    // ---- 5: many concurrently active short grants in one worker --------------------------------
    results.f5 = await manyGrants({ stack, client, tail, check });

    // ---- 7: the active list over a store of many grants (a second API on its own database) ------
    const seeded = await seedGrantList({
      benchAuditFile: stack.auditFile,
      total: size.f7Grants,
      activeShare: 0.1,
      log: say,
    });
    const listApi = new ApiClient((await stack.startApi(seeded.databaseUrl)).url, 4);
    const measured = await measureGrantList({
      api: listApi,
      token: await token('dave'),
      requests: size.f7Requests,
    });
    listApi.close();
    results.f7 = {
      grants: size.f7Grants,
      active: seeded.active,
      seedSeconds: round1(seeded.seedSeconds),
      ...measured,
    };
    check();
  } catch (err) {
    // Whatever was measured before the failure still goes into the table and the JSON.
    failure = err instanceof Error ? err.message : String(err);
    throw err;
  } finally {
    tail.close();
    api.close();
    sts.destroy();
    await connection.close();
    report(results, failure);
  }
}

/**
 * Figure 5. Grants are started straight on Temporal (the figure is about the worker; figure 1
 * covers the API path), at most 64 waiting for activation at a time. All get the same duration,
 * long enough that every one is active before the first ends, so they end in the order and at
 * the rate they were activated.
 */
async function manyGrants(opts: { stack: BenchStack; client: Client; tail: AuditTail; check: () => void }) {
  const { stack, client, tail, check } = opts;
  const requester = principal('alice');
  const rss: number[] = [];
  const sampleRss = () => {
    try {
      const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${stack.workerPid}/status`, 'utf8'));
      if (match) rss.push(Number(match[1]) / 1024);
    } catch {
      // The worker is gone; check() reports it.
    }
  };
  const grants = new GrantClient({
    client,
    taskQueue: stack.taskQueue,
    signer: new AssertionSigner(parseSigningKey(stack.signingKey), 'api'),
  });
  const start = async (durationSeconds: number) => {
    const grantId = `grant-${ulid()}`;
    const request = { grantId, roleId: 'prod-readonly', durationSeconds, reason: 'bench: figure 5' };
    await grants.start(requester, { allowed: true, policyIds: ['bench'] }, request);
    return grantId;
  };
  const activated = (id: string) => {
    check();
    return tail.grants.get(id)?.recorded.has('grant.activated') ?? false;
  };

  /** Starts `total` grants, keeping at most `window` not yet active; resolves when all are active. */
  const startAll = async (total: number, durationSeconds: number, ids: string[]) => {
    const waiting = new Set<string>();
    const window = 64;
    let started = 0;
    const lanes = Array.from({ length: 8 }, async () => {
      for (;;) {
        while (waiting.size >= window) {
          await tail.next();
          for (const id of waiting) if (activated(id)) waiting.delete(id);
        }
        if (started >= total) break;
        started += 1;
        const id = await start(durationSeconds);
        ids.push(id);
        waiting.add(id);
      }
    });
    await Promise.all(lanes);
    await tail.until(
      () => {
        for (const id of waiting) if (activated(id)) waiting.delete(id);
        return waiting.size === 0;
      },
      300_000,
      'grants to activate',
    );
  };

  say(`5: pilot: activation rate of ${size.f5Pilot} grants`);
  const pilotIds: string[] = [];
  const pilotStarted = performance.now();
  await startAll(size.f5Pilot, size.f5PilotSeconds, pilotIds);
  const pilotRate = size.f5Pilot / ((performance.now() - pilotStarted) / 1000);
  await tail.until(
    () => pilotIds.every((id) => tail.grants.get(id)?.recorded.has('grant.expired')),
    120_000,
    'pilot grants to end',
  );
  check();

  const durationSeconds = Math.ceil((size.f5 / pilotRate) * 1.3) + size.f5SlackSeconds;
  say(
    `5: ${size.f5} grants of ${durationSeconds} s in one worker (pilot: ${round1(pilotRate)} activations/s)`,
  );
  sampleRss();
  const rssBefore = rss[0] ?? Number.NaN;
  const sampler = setInterval(sampleRss, 500);
  const ids: string[] = [];
  const started = performance.now();
  try {
    await startAll(size.f5, durationSeconds, ids);
    const activationSeconds = (performance.now() - started) / 1000;
    check();
    say(`   all active after ${round1(activationSeconds)} s; waiting for them to end`);
    await tail.until(
      () => {
        check();
        return ids.every((id) => tail.grants.get(id)?.recorded.has('grant.expired'));
      },
      durationSeconds * 1000 + 600_000,
      'figure 5 grants to end',
    );
    sampleRss();
    const lags: number[] = [];
    const edges: [number, number][] = [];
    let firstExpiry = Number.POSITIVE_INFINITY;
    let lastActivation = 0;
    for (const id of ids) {
      const g = tail.grants.get(id);
      const activatedAt = g?.occurred.get('grant.activated');
      const expiredAt = g?.recorded.get('grant.expired');
      if (!g?.expiresAt || activatedAt === undefined || expiredAt === undefined) continue;
      lags.push(expiredAt - g.expiresAt);
      edges.push([activatedAt, 1], [g.expiresAt, -1]);
      firstExpiry = Math.min(firstExpiry, g.expiresAt);
      lastActivation = Math.max(lastActivation, activatedAt);
    }
    edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let active = 0;
    let peak = 0;
    for (const [, delta] of edges) {
      active += delta;
      peak = Math.max(peak, active);
    }
    return {
      grants: ids.length,
      durationSeconds,
      pilotActivationsPerSecond: round1(pilotRate),
      activationsPerSecond: round1(ids.length / activationSeconds),
      peakConcurrentlyActive: peak,
      allActiveAtOnce: lastActivation < firstExpiry,
      ended: lags.length,
      endLag: latency(lags),
      workerRssMb: {
        before: Math.round(rssBefore),
        peak: Math.round(Math.max(...rss)),
        after: Math.round(rss.at(-1) ?? 0),
      },
    };
  } finally {
    clearInterval(sampler);
  }
}

// ---- the report -----------------------------------------------------------------------------

function report(results: Partial<Results>, failure?: string): void {
  const { floor, f1, f2, f3, f4, f5, f6, f7 } = results;
  if (!floor) return;
  const ms = (x: number) => (Number.isFinite(x) ? `${round1(x)} ms` : 'n/a');
  const ratio = (x: number, base: number) => (Number.isFinite(x) && base > 0 ? `${round2(x / base)}x` : '');
  const yes = (ok: boolean) => (ok ? 'yes' : 'NO');
  const floorSeqP99 = floor.sequential.latency.p99 as number;
  const floorConcP99 = floor.concurrent.latency.p99 as number;
  const bareRate = floor.bare.perSecond as number;

  type Row = { figure: string; target: string; p50: string; p99: string; ratio: string; met: string };
  const rows: Row[] = [];
  const figures: Record<string, { target: string; value: number; limit: number; met: boolean | null }> = {};
  const add = (key: string, row: Omit<Row, 'met'>, value: number, limit: number, met: boolean | null) => {
    rows.push({ ...row, met: met === null ? '' : yes(met) });
    figures[key] = { target: row.target, value: round2(value), limit: round2(limit), met };
  };

  add(
    'floor.sequential',
    {
      figure: 'floor: start + Update, sequential',
      target: '',
      p50: ms(floor.sequential.latency.p50),
      p99: ms(floorSeqP99),
      ratio: '1x',
    },
    floorSeqP99,
    0,
    null,
  );
  add(
    'floor.concurrent',
    {
      figure: `floor: start + Update, concurrency ${CONC}`,
      target: '',
      p50: ms(floor.concurrent.latency.p50),
      p99: ms(floorConcP99),
      ratio: '1x',
    },
    floorConcP99,
    0,
    null,
  );
  add(
    'floor.bare',
    {
      figure: 'floor: bare workflows/s',
      target: '',
      p50: '',
      p99: `${bareRate}/s`,
      ratio: '1x',
    },
    bareRate,
    0,
    null,
  );
  for (const [key, label, data] of [
    ['floor.stsSequential', 'floor: STS AssumeRole, sequential', floor.stsSequential],
    ['floor.stsConcurrent', `floor: STS AssumeRole, concurrency ${CONC}`, floor.stsConcurrent],
  ] as const) {
    add(
      key,
      { figure: label, target: '', p50: ms(data.latency.p50), p99: ms(data.latency.p99), ratio: '' },
      data.latency.p99,
      0,
      null,
    );
  }

  for (const [key, label, data, floorP99, stsP99] of !f1
    ? []
    : ([
        [
          'f1.sequential',
          '1 request -> credentials, sequential',
          f1.sequential,
          floorSeqP99,
          floor.stsSequential.latency.p99,
        ],
        [
          'f1.concurrent',
          `1 request -> credentials, concurrency ${CONC}`,
          f1.concurrent,
          floorConcP99,
          floor.stsConcurrent.latency.p99,
        ],
      ] as const)) {
    const limit = 1.5 * (floorP99 + stsP99);
    const p99 = data.latency.p99 as number;
    add(
      key,
      {
        figure: label,
        target: `p99 <= 1.5 x (floor + STS) = ${ms(limit)}`,
        p50: ms(data.latency.p50),
        p99: ms(p99),
        ratio: ratio(p99, floorP99),
      },
      p99,
      limit,
      p99 <= limit && data.errors.count === 0,
    );
  }
  if (f2) {
    const limit = 1.5 * floorSeqP99;
    const p99 = f2.latency.p99 as number;
    add(
      'f2',
      {
        figure: '2 last approval -> active',
        target: `p99 <= 1.5 x floor = ${ms(limit)}`,
        p50: ms(f2.latency.p50),
        p99: ms(p99),
        ratio: ratio(p99, floorSeqP99),
      },
      p99,
      limit,
      p99 <= limit && f2.errors.count === 0,
    );
  }
  if (f3) {
    const p99 = f3.endToEnd.p99 as number;
    const ok = p99 <= 1000 && f3.errors.count === 0;
    add(
      'f3',
      {
        figure: '3 grant end -> expired + ledger deny entry',
        target: 'p99 <= 1000 ms',
        p50: ms(f3.endToEnd.p50),
        p99: ms(p99),
        ratio: ratio(p99, floorSeqP99),
      },
      p99,
      1000,
      ok,
    );
  }
  if (f4) {
    const limit = Math.max(100, 0.5 * bareRate);
    const rate = f4.perSecond as number;
    const ok = rate >= limit && f4.errors.count === 0;
    add(
      'f4',
      {
        figure: `4 complete lifecycles/s, concurrency ${f4.concurrency}`,
        target: `>= 100/s and >= 0.5 x bare = ${round1(0.5 * bareRate)}/s`,
        p50: '',
        p99: `${rate}/s`,
        ratio: ratio(rate, bareRate),
      },
      rate,
      limit,
      ok,
    );
  }
  if (f5) {
    const peak = f5.workerRssMb.peak as number;
    add(
      'f5.rss',
      {
        figure: `5 ${f5.grants} active grants: worker peak RSS`,
        target: '< 512 MB',
        p50: '',
        p99: `${peak} MB`,
        ratio: '',
      },
      peak,
      512,
      peak < 512,
    );
    const p99 = f5.endLag.p99 as number;
    const ok = p99 <= 1000 && f5.ended === f5.grants;
    add(
      'f5.endLag',
      {
        figure: `5 ${f5.grants} active grants: end lag`,
        target: 'all end, p99 <= 1000 ms',
        p50: ms(f5.endLag.p50),
        p99: ms(p99),
        ratio: ratio(p99, floorSeqP99),
      },
      p99,
      1000,
      ok,
    );
  }
  if (f6) {
    const p99 = f6.latency.p99 as number;
    const ok = p99 < 20 && f6.errors === 0;
    add(
      'f6',
      {
        figure: `6 GET /v1/requests/{id} at ${f6.achievedRate}/s for ${size.f6Seconds} s`,
        target: 'p99 < 20 ms, no errors',
        p50: ms(f6.latency.p50),
        p99: `${ms(p99)}, ${f6.errors} errors`,
        ratio: ratio(p99, floorSeqP99),
      },
      p99,
      20,
      ok,
    );
  }

  if (f7) {
    const p99 = f7.list.p99;
    const ok = p99 < 50 && f7.errors === 0;
    add(
      'f7',
      {
        figure: `7 GET /v1/requests?status=active, ${f7.grants} grants (${f7.active} active)`,
        target: 'p99 < 50 ms, no errors',
        p50: ms(f7.list.p50),
        p99: `${ms(p99)}, ${f7.errors} errors`,
        ratio: ratio(p99, f7.floor.p99),
      },
      p99,
      50,
      ok,
    );
  }

  const keys = ['f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7'] as const;
  for (const key of keys.filter((k) => !results[k])) {
    rows.push({
      figure: `${key.slice(1)} not measured`,
      target: '',
      p50: '',
      p99: '',
      ratio: '',
      met: 'n/a',
    });
  }
  if (failure)
    rows.push({ figure: `run failed: ${failure}`, target: '', p50: '', p99: '', ratio: '', met: '' });
  const table = renderTable([
    ['figure', 'target', 'p50', 'p99 / rate', 'vs floor', 'met'],
    ...rows.map((r) => [r.figure, r.target, r.p50, r.p99, r.ratio, r.met]),
  ]);
  say(`\n${table}\n`);

  const machine = {
    nproc: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGb: round1(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    brokerNodeFlags: process.env.JIT_BENCH_NODE_FLAGS ?? '',
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify({ date: new Date().toISOString(), quick, failure, machine, sizes: size, figures, table, results }, null, 2)}\n`,
  );
  say(`wrote ${out}`);
}

// ---- entry ----------------------------------------------------------------------------------

const stopping = { now: false };
let stack: BenchStack | undefined;
let exitCode = 0;
const abort = (why: string, code: number) => {
  if (stopping.now) return;
  stopping.now = true;
  say(`\n${why}: stopping the bench stack ...`);
  void stopBenchStack().finally(() => process.exit(code));
};
process.on('SIGINT', () => abort('SIGINT', 130));
process.on('SIGTERM', () => abort('SIGTERM', 143));
process.on('uncaughtException', (err) => abort(`bench failed: ${err.stack ?? err.message}`, 1));
process.on('unhandledRejection', (err) => abort(`bench failed: ${String(err)}`, 1));

try {
  say(`bringing up the bench stack${quick ? ' (quick run)' : ''} ...`);
  const started = performance.now();
  stack = await startBenchStack(say);
  say(`stack up in ${round1((performance.now() - started) / 1000)} s (API ${stack.apiUrl})`);
  await main(stack, stopping);
} catch (err) {
  exitCode = 1;
  say(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
} finally {
  if (!stopping.now) await stack?.stop();
}
process.exit(exitCode);
