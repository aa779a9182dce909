// Where a grant's time goes: `npx tsx bench/profile.ts [--grants N]` brings up the bench stack, runs
// N auto-approved grants through the API (request, credentials, revoke) one at a time, and prints
// each leg's latency and the Temporal history of the last grant with the gap before every event.
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { deviceLogin } from '../infra/oidc/device-login.js';
import { brokerDataConverter } from '../platform/data-converter.js';
import { parsePayloadKeys } from '../platform/payload-codec.js';
import { ApiClient } from './lib/http.js';
import { type BenchStack, startBenchStack } from './lib/stack.js';
import { latency } from './lib/stats.js';

const { values: args } = parseArgs({ options: { grants: { type: 'string', default: '30' } } });
const say = (msg: string) => process.stdout.write(`${msg}\n`);
const EventType = proto.temporal.api.enums.v1.EventType;

async function profile(stack: BenchStack): Promise<void> {
  const connection = await Connection.connect({ address: stack.temporalAddress });
  const client = new Client({
    connection,
    dataConverter: brokerDataConverter(parsePayloadKeys(stack.payloadKeys)),
  });
  const api = new ApiClient(stack.apiUrl);
  const { access_token: alice } = await deviceLogin({ issuer: stack.oidcIssuer, user: 'alice' });
  const legs: Record<string, number[]> = { request: [], credentials: [], get: [], revoke: [] };
  let last = '';
  for (let i = 0; i < Number(args.grants); i++) {
    const req = await api.expect([201], 'POST', '/v1/requests', alice, {
      role: 'prod-readonly',
      duration: '30m',
      reason: 'profile',
    });
    last = req.body.id as string;
    const creds = await api.expect([200], 'POST', `/v1/requests/${last}/credentials`, alice, {});
    const get = await api.expect([200], 'GET', `/v1/requests/${last}`, alice);
    const revoke = await api.expect([200], 'POST', `/v1/requests/${last}/revoke`, alice, { reason: 'x' });
    if (i < 3) continue; // warm-up
    legs.request?.push(req.ms);
    legs.credentials?.push(creds.ms);
    legs.get?.push(get.ms);
    legs.revoke?.push(revoke.ms);
  }
  for (const [leg, samples] of Object.entries(legs)) {
    const l = latency(samples);
    say(`${leg.padEnd(12)} p50 ${l.p50} ms  p99 ${l.p99} ms  mean ${l.mean} ms`);
  }
  await new Promise((r) => setTimeout(r, 1000));
  const history = await client.workflow.getHandle(last).fetchHistory();
  let previous = 0;
  say(`\nhistory of ${last}:`);
  for (const event of history.events ?? []) {
    const t = event.eventTime;
    const ms = t ? Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : 0;
    const name = EventType[event.eventType ?? 0]?.replace(/^EVENT_TYPE_/, '') ?? '?';
    const activity = event.activityTaskScheduledEventAttributes?.activityType?.name ?? '';
    say(
      `${String(event.eventId).padStart(3)}  +${String(previous ? ms - previous : 0).padStart(4)} ms  ${name} ${activity}`,
    );
    previous = ms;
  }
  api.close();
  await connection.close();
}

const stack = await startBenchStack(say);
try {
  await profile(stack);
} finally {
  await stack.stop();
}
