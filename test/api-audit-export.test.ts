// Auditor export over HTTP: 100k events stream through the API server in flat memory, and CSV
// cells that a spreadsheet would run as formulas come out neutralised.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AuditEventInput } from '../common/audit-event.js';
import { bulkAppend, openAuditStore } from '../store/index.js';
import { startTestApi, type TestApi } from './support/api.js';
import { startTestBroker, type TestBroker } from './support/broker.js';
import { liveHeap } from './support/memory.js';

const TOTAL = 100_000;
let broker: TestBroker;
let api: TestApi;

before(async () => {
  broker = await startTestBroker();
  const store = await openAuditStore(broker.auditDatabaseUrl);
  const t0 = Date.parse('2026-01-01T00:00:00.000Z');
  function* events(): Generator<AuditEventInput> {
    for (let i = 1; i <= TOTAL; i++) {
      yield {
        eventId: `grant-load-${Math.floor(i / 10)}:${i}`,
        occurredAt: new Date(t0 + i * 1000).toISOString(),
        grantId: `grant-load-${Math.floor(i / 10)}`,
        type: 'grant.requested',
        actor: 'alice',
        roleId: 'prod-admin',
        requester: 'alice',
        data: {
          reason: i === 1 ? '=HYPERLINK("http://evil.example","click")' : `reason ${'x'.repeat(500)} ${i}`,
        },
      };
    }
  }
  await bulkAppend(store, events());
  await store.close();
  api = await startTestApi(broker);
});
after(async () => {
  await api.close();
  await broker.close();
});

test('GET /v1/audit/events streams 100k events as CSV while the server heap stays flat', {
  timeout: 120_000,
}, async (t) => {
  const heap = liveHeap();
  const baseline = heap();
  let peak = baseline;
  const res = await fetch(`${api.url}/v1/audit/events?format=csv`, {
    headers: { authorization: `Bearer ${await api.token('dave')}` },
  });
  assert.equal(res.status, 200);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let bytes = 0;
  let lines = 0;
  let head = '';
  let reads = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.length;
    const text = decoder.decode(value, { stream: true });
    if (head.length < 4096) head += text;
    for (const byte of value) if (byte === 10) lines += 1; // rows end in CRLF; cells hold no raw newline
    if (++reads % 200 === 0) peak = Math.max(peak, heap());
  }
  peak = Math.max(peak, heap());
  const growthMb = (peak - baseline) / 2 ** 20;
  t.diagnostic(`${(bytes / 2 ** 20).toFixed(0)} MB of CSV, peak live heap +${growthMb.toFixed(1)} MB`);
  assert.equal(lines, TOTAL + 1, 'a header and one line per event');
  assert.ok(bytes > 64 * 2 ** 20, 'the export is far larger than the memory bound');
  assert.ok(growthMb < 48, `server heap grew ${growthMb.toFixed(1)} MB`);
  assert.match(head, /^position,event_id,/);
});

test('a reason that a spreadsheet would run as a formula comes out neutralised', async () => {
  const res = await api.call('GET', '/v1/audit/events?format=csv&grants=true&grant=grant-load-0', {
    user: 'dave',
  });
  assert.equal(res.status, 200);
  const [header, row] = String(res.body).split('\r\n');
  assert.match(header ?? '', /reason/);
  assert.match(row ?? '', /,"'=HYPERLINK\(""http:\/\/evil\.example"",""click""\)",/);
});

test('the grant summary export has one row per grant', async () => {
  const res = await api.call('GET', '/v1/audit/events?format=jsonl&grants=true&grant=grant-load-1', {
    user: 'dave',
  });
  assert.equal(res.status, 200);
  const rows = String(res.body).trim().split('\n');
  assert.equal(rows.length, 1);
});
