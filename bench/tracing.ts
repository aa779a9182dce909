// What tracing costs (`npm run bench:tracing`, `-- --quick`). Two figures, each against a floor
// measured in the same run:
//   1. tracing off: what the code left in the request path costs when no OTEL_* endpoint is set
//      (the span lookups of the API's hooks, the log mixin), per request, against the time of one
//      auto-approved request -> credentials round trip measured on the same stack with tracing off;
//   2. tracing on: grants per second (auto-approved request -> credentials through the HTTP API, 16
//      at a time) on a stack exporting every span to an OTLP/HTTP receiver in this process, against
//      the same on a stack with tracing off (the floor), brought up the same way just before.
// Writes bench/results/tracing.json (quick: bench/results/tracing-quick.json.tmp, git-ignored).
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { deviceLogin } from '../infra/oidc/device-login.js';
import { repoRoot } from '../infra/paths.js';
import { activeTraceId, annotateGrant } from '../platform/telemetry.js';
import { ApiClient } from './lib/http.js';
import { startBenchStack, stopBenchStack } from './lib/stack.js';
import { latency, pool, renderTable, round2 } from './lib/stats.js';

const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const size = args.quick
  ? { warmUp: 5, grants: 40, hookCalls: 100_000 }
  : { warmUp: 20, grants: 400, hookCalls: 2_000_000 };
const CONCURRENCY = 16;
const say = (msg: string) => process.stdout.write(`${msg}\n`);

/** An OTLP/HTTP receiver that counts what it gets and keeps nothing. */
async function otlpSink(): Promise<{
  url: string;
  requests: () => number;
  bytes: () => number;
  close(): void;
}> {
  let requests = 0;
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on('data', (c: Buffer) => {
      bytes += c.length;
    });
    req.on('end', () => {
      requests += 1;
      res.setHeader('content-type', 'application/json');
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    bytes: () => bytes,
    close: () => server.close(),
  };
}

/** Grants per second and round-trip latency on a fresh stack with these settings. */
async function grantsPerSecond(env: NodeJS.ProcessEnv, label: string) {
  say(`${label}: starting a stack ...`);
  const stack = await startBenchStack(say, env);
  try {
    const api = new ApiClient(stack.apiUrl);
    const token = (await deviceLogin({ issuer: stack.oidcIssuer, user: 'alice' })).access_token;
    const samples: number[] = [];
    const grant = async () => {
      const started = performance.now();
      const res = await api.expect([201], 'POST', '/v1/requests', token, {
        role: 'prod-readonly',
        duration: '30m',
        reason: 'bench: tracing',
      });
      await api.expect([200], 'POST', `/v1/requests/${res.body.id as string}/credentials`, token, {});
      samples.push(performance.now() - started);
    };
    await pool(size.warmUp, 1, grant);
    samples.length = 0;
    const ms = await pool(size.grants, CONCURRENCY, grant);
    const failure = stack.failure();
    if (failure) throw new Error(failure);
    return { grantsPerSecond: round2(size.grants / (ms / 1000)), roundTrip: latency(samples) };
  } finally {
    await stack.stop();
  }
}

/** Nanoseconds per request of what tracing-off leaves in the path: the hooks' span lookups and the log mixin. */
function offPathNanos(): number {
  const started = process.hrtime.bigint();
  for (let i = 0; i < size.hookCalls; i++) {
    annotateGrant({ grantId: 'grant-01J00000000000000000000000', role: 'prod-readonly', outcome: 'active' });
    annotateGrant({ outcome: 'active' });
    activeTraceId();
    activeTraceId();
  }
  return Number(process.hrtime.bigint() - started) / size.hookCalls;
}

async function main(): Promise<void> {
  const offNanos = offPathNanos();
  const off = await grantsPerSecond({}, 'tracing off');
  const sink = await otlpSink();
  let on: Awaited<ReturnType<typeof grantsPerSecond>>;
  try {
    on = await grantsPerSecond(
      { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_BSP_SCHEDULE_DELAY: '500' },
      'tracing on',
    );
  } finally {
    sink.close();
  }
  if (sink.requests() === 0) throw new Error('tracing on exported nothing: the figure would be of nothing');
  const offShare = offNanos / 1e6 / off.roundTrip.p50;
  const results = {
    quick: args.quick,
    grants: size.grants,
    concurrency: CONCURRENCY,
    tracingOff: { ...off, offPathNanosPerRequest: round2(offNanos), shareOfRoundTrip: offShare },
    tracingOn: { ...on, otlpRequests: sink.requests(), otlpBytes: sink.bytes() },
    onOverOff: round2(on.grantsPerSecond / off.grantsPerSecond),
  };
  say(
    renderTable([
      ['figure', 'value', 'floor (same run)', 'ratio'],
      [
        'tracing off: code left in the path, per request',
        `${round2(offNanos)} ns`,
        `round trip p50 ${off.roundTrip.p50} ms`,
        offShare.toExponential(1),
      ],
      [
        'tracing on: grants/s (request + credentials, 16 at a time)',
        String(on.grantsPerSecond),
        `tracing off ${off.grantsPerSecond} grants/s`,
        String(results.onOverOff),
      ],
      [
        'tracing on: round trip p50 / p99',
        `${on.roundTrip.p50} / ${on.roundTrip.p99} ms`,
        `${off.roundTrip.p50} / ${off.roundTrip.p99} ms`,
        String(round2(on.roundTrip.p50 / off.roundTrip.p50)),
      ],
    ]),
  );
  const out = join(repoRoot, 'bench/results', args.quick ? 'tracing-quick.json.tmp' : 'tracing.json');
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  say(`written to ${out}`);
}

const stopAndExit = (code: number) => void stopBenchStack().finally(() => process.exit(code));
process.once('SIGINT', () => stopAndExit(130));
process.once('SIGTERM', () => stopAndExit(143));
main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    stopAndExit(1);
  },
);
