// Audit export throughput and memory: `npx tsx bench/audit-export.ts [--events N] [--backends sqlite,postgres]
// [--postgres-url postgres://...]`. Loads N lifecycle-shaped events per backend, then times CSV and
// JSONL export (plus verify and grant summaries), sampling RSS and heap per chunk. Without
// --postgres-url it runs a private PostgreSQL (infra/postgres.ts) under .data/bench-postgres.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pg from 'pg';
import type { AuditEventInput, AuditEventType } from '../common/audit-event.js';
import { dataDir, repoRoot } from '../infra/paths.js';
import { startPostgres } from '../infra/postgres.js';
import { freePort } from '../infra/process.js';
import { type AuditStore, bulkAppend, openAuditStore } from '../store/index.js';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    backends: { type: 'string', default: 'sqlite,postgres' },
    'postgres-url': { type: 'string' },
  },
});
const total = Number(args.events.replaceAll('_', ''));
if (!Number.isInteger(total) || total <= 0) throw new Error('--events must be a positive integer');
const backends = args.backends.split(',') as ('sqlite' | 'postgres')[];

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const mb = (bytes: number) => bytes / 2 ** 20;
const say = (msg: string) => process.stdout.write(`${msg}\n`);

/** Seven events per grant, shaped like the grant workflow's (sizes matter, content does not). */
function* lifecycleEvents(count: number): Generator<AuditEventInput> {
  const t0 = Date.UTC(2025, 0, 1);
  const shape: [AuditEventType, string, (g: number) => Record<string, unknown>][] = [
    ['grant.requested', 'user', () => ({ reason: 'INC-4242 investigate elevated 5xx', ticket: 'INC-4242' })],
    [
      'grant.approval_recorded',
      'bob',
      () => ({ approvals: 1, of: 2, comment: 'ok', policyIds: ['policy0'] }),
    ],
    [
      'grant.approval_recorded',
      'carol',
      () => ({ approvals: 2, of: 2, comment: '', policyIds: ['policy0'] }),
    ],
    [
      'grant.activated',
      'system',
      () => ({ expiresAt: '2025-01-01T01:00:00.000Z', approvers: ['bob', 'carol'] }),
    ],
    [
      'grant.credentials_issued',
      'user',
      (g) => ({
        accessKeyId: `ASIA${String(g).padStart(16, '0')}`,
        sessionName: `jit-${g}-1`,
        expiresAt: '',
      }),
    ],
    ['grant.expired', 'system', () => ({ reason: 'expired', sessionsDenied: [] })],
    ['ledger.entries_added', 'system', (g) => ({ entries: [{ grantId: `grant-${g}`, expiresAt: '' }] })],
  ];
  for (let i = 0; i < count; i++) {
    const g = Math.floor(i / shape.length);
    const [type, actor, data] = shape[i % shape.length] as (typeof shape)[number];
    const grantId = type.startsWith('ledger.') ? 'ledger-prod-admin' : `grant-${g}`;
    yield {
      eventId: `${grantId}:${type.startsWith('ledger.') ? g : i}`,
      occurredAt: new Date(t0 + i * 1000).toISOString(),
      grantId,
      type,
      actor: actor === 'user' ? `user-${g % 97}` : actor,
      ...(actor === 'user' ? { actorEmail: `user-${g % 97}@example.com` } : {}),
      roleId: g % 3 === 0 ? 'prod-admin' : 'prod-readonly',
      requester: `user-${g % 97}`,
      data: data(g),
    };
  }
}

interface Phase {
  ms: number;
  rowsPerSec?: number;
  mbPerSec?: number;
  outputMb?: number;
  peakRssMb: number;
  peakHeapMb: number;
  heapGrowthMb: number;
}

/** Runs one phase, sampling memory every `sample()` call and at the end. */
async function measure(
  rows: number,
  work: (sample: () => void) => Promise<number | undefined>,
): Promise<Phase> {
  gc();
  const base = process.memoryUsage();
  let peakRss = base.rss;
  let peakHeap = base.heapUsed;
  const sample = () => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  const started = performance.now();
  const bytes = await work(sample);
  const ms = performance.now() - started;
  sample();
  return {
    ms: Math.round(ms),
    rowsPerSec: Math.round(rows / (ms / 1000)),
    ...(bytes === undefined
      ? {}
      : { outputMb: Number(mb(bytes).toFixed(1)), mbPerSec: Number((mb(bytes) / (ms / 1000)).toFixed(1)) }),
    peakRssMb: Math.round(mb(peakRss)),
    peakHeapMb: Math.round(mb(peakHeap)),
    heapGrowthMb: Math.round(mb(peakHeap - base.heapUsed)),
  };
}

async function drain(chunks: AsyncIterable<string>, sample: () => void): Promise<number> {
  let bytes = 0;
  for await (const chunk of chunks) {
    bytes += Buffer.byteLength(chunk);
    sample();
  }
  return bytes;
}

async function benchStore(store: AuditStore): Promise<Record<string, Phase>> {
  const phases: Record<string, Phase> = {};
  say(`  loading ${total} events...`);
  phases.load = await measure(total, async (sample) => {
    await bulkAppend(
      store,
      (function* () {
        let i = 0;
        for (const e of lifecycleEvents(total)) {
          if (++i % 10_000 === 0) sample();
          yield e;
        }
      })(),
    );
    return undefined;
  });
  for (const format of ['csv', 'jsonl'] as const) {
    say(`  export ${format}...`);
    phases[`export ${format}`] = await measure(total, (sample) =>
      drain(store.exportEvents({}, format), sample),
    );
  }
  say('  verify...');
  phases.verify = await measure(total, async () => {
    const result = await store.verify();
    if (!result.ok || result.rowsChecked !== total)
      throw new Error(`verify failed: ${JSON.stringify(result)}`);
    return undefined;
  });
  say('  grant summaries csv...');
  const grants = Math.ceil(total / 7);
  phases['summaries csv'] = await measure(grants, (sample) =>
    drain(store.exportGrantSummaries({}, 'csv'), sample),
  );
  return phases;
}

async function withPostgres<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const server = args['postgres-url']
    ? { url: args['postgres-url'], stop: async () => {} }
    : await startPostgres({
        dataDir: join(dataDir, 'bench-postgres'),
        port: await freePort(),
        log: say,
        relaxedDurability: true,
      });
  const name = `jit_bench_${Date.now().toString(36)}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    await client.query(statement).finally(() => client.end());
  };
  try {
    await admin(`create database "${name}"`);
    const url = new URL(server.url);
    url.pathname = `/${name}`;
    return await fn(url.toString());
  } finally {
    await admin(`drop database if exists "${name}" with (force)`).catch(() => {});
    await server.stop();
  }
}

async function run(backend: 'sqlite' | 'postgres'): Promise<Record<string, Phase>> {
  say(`${backend}:`);
  const go = async (url: string) => {
    const store = await openAuditStore(url);
    try {
      return await benchStore(store);
    } finally {
      await store.close();
    }
  };
  if (backend === 'postgres') return withPostgres(go);
  const dir = join(dataDir, 'bench');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  try {
    return await go(join(dir, 'audit-export.db'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const results: Record<string, Record<string, Phase>> = {};
for (const backend of backends) results[backend] = await run(backend);

const table = [
  ['backend', 'phase', 'ms', 'rows/s', 'MB out', 'MB/s', 'peak RSS MB', 'peak heap MB', 'heap +MB'],
];
for (const [backend, phases] of Object.entries(results)) {
  for (const [phase, p] of Object.entries(phases)) {
    table.push([
      backend,
      phase,
      String(p.ms),
      String(p.rowsPerSec ?? ''),
      String(p.outputMb ?? ''),
      String(p.mbPerSec ?? ''),
      String(p.peakRssMb),
      String(p.peakHeapMb),
      String(p.heapGrowthMb),
    ]);
  }
}
const widths = table[0]?.map((_, col) => Math.max(...table.map((row) => (row[col] ?? '').length))) ?? [];
say('');
for (const row of table) say(row.map((cell, col) => cell.padEnd(widths[col] ?? 0)).join('  '));

const out = join(repoRoot, 'bench', 'results', 'audit-export.json');
mkdirSync(join(repoRoot, 'bench', 'results'), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify(
    {
      events: total,
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      date: new Date().toISOString(),
      note: 'summaries rows/s counts grants (events / 7); PostgreSQL runs with fsync off unless --postgres-url',
      results,
    },
    null,
    2,
  )}\n`,
);
say(`\nwrote ${out}`);
