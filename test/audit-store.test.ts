// The tamper-evident audit store, on both backends: append (idempotent, concurrent), verify
// (detects edits, deletions, reordering), streaming export (CSV / JSON Lines) and filters.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ApplicationFailure } from '@temporalio/common';
import { sql } from 'kysely';
import { createAuditActivities } from '../activities/audit.js';
import type { AuditEventInput, AuditEventType } from '../common/audit-event.js';
import { GENESIS_HASH } from '../store/chain.js';
import { AuditEventConflictError, InvalidAuditEventError, SecretInAuditDataError } from '../store/errors.js';
import {
  type AuditFilter,
  type AuditStore,
  bulkAppend,
  type ExportFormat,
  openAuditStore,
  rawConnectionForTests,
} from '../store/index.js';
import { liveHeap } from './support/memory.js';
import { freshPostgresDatabase, hasTestDatabase } from './support/postgres.js';

type Backend = 'sqlite' | 'postgres';

const storeModule = pathToFileURL(fileURLToPath(new URL('../store/index.ts', import.meta.url))).href;

async function freshLocation(backend: Backend): Promise<{ url: string; cleanup(): Promise<void> }> {
  if (backend === 'postgres') {
    const db = await freshPostgresDatabase('jit_audit_test');
    return { url: db.url, cleanup: () => db.drop() };
  }
  const dir = mkdtempSync(join(tmpdir(), 'jit-audit-'));
  return { url: join(dir, 'audit.db'), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `fn` with a store on an empty database of its own. */
async function withStore(
  backend: Backend,
  fn: (store: AuditStore, url: string) => Promise<void>,
): Promise<void> {
  const location = await freshLocation(backend);
  const store = await openAuditStore(location.url);
  try {
    await fn(store, location.url);
  } finally {
    await store.close();
    await location.cleanup();
  }
}

const t0 = Date.UTC(2025, 5, 1, 9, 0, 0);
const at = (minutes: number) => new Date(t0 + minutes * 60_000).toISOString();

function event(
  grantId: string,
  seq: number,
  type: AuditEventType,
  overrides: Partial<AuditEventInput> = {},
): AuditEventInput {
  return {
    eventId: `${grantId}:${seq}`,
    occurredAt: at(seq),
    grantId,
    type,
    actor: 'alice',
    actorEmail: 'alice@example.com',
    roleId: 'prod-admin',
    requester: 'alice',
    data: {},
    ...overrides,
  };
}

/** A full lifecycle: requested, two approvals, activated, credentials, revoked, then the ledger entry. */
function lifecycle(grantId = 'grant-01JLIFECYCLE', reason = 'INC-42 db failover'): AuditEventInput[] {
  return [
    event(grantId, 1, 'grant.requested', { data: { reason, ticket: 'INC-42', durationSeconds: 3600 } }),
    event(grantId, 2, 'grant.approval_recorded', {
      actor: 'bob',
      actorEmail: 'bob@example.com',
      data: { comment: 'ok' },
    }),
    event(grantId, 3, 'grant.approval_recorded', {
      actor: 'carol',
      actorEmail: 'carol@example.com',
      data: {},
    }),
    event(grantId, 4, 'grant.activated', {
      actor: 'system',
      actorEmail: undefined,
      data: { expiresAt: at(64) },
    }),
    event(grantId, 5, 'grant.credentials_issued', {
      data: { accessKeyId: 'ASIAEXAMPLE0001', sessionName: 'jit-alice-1', expiresAt: at(64) },
    }),
    event(grantId, 6, 'grant.revoked', {
      actor: 'dave',
      actorEmail: 'dave@example.com',
      data: { reason: 'done' },
    }),
    event('ledger-prod-admin', 1, 'ledger.entries_added', {
      actor: 'system',
      requester: '',
      occurredAt: at(7),
      data: { entries: [{ grantId, assumedRoleId: 'AROAEXAMPLE:jit-alice-1', expiresAt: at(64) }] },
    }),
  ];
}

async function collect(chunks: AsyncIterable<string>): Promise<string> {
  let text = '';
  for await (const chunk of chunks) text += chunk;
  return text;
}

const exportText = (store: AuditStore, filter: AuditFilter, format: ExportFormat) =>
  collect(store.exportEvents(filter, format));

const jsonl = async (store: AuditStore, filter: AuditFilter = {}) =>
  (await exportText(store, filter, 'jsonl'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown> & { eventId: string; position: number });

/** RFC 4180: fields separated by commas, records by CRLF, quotes doubled inside quoted fields. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let i = 0;
  while (i < text.length) {
    if (text[i] === '"') {
      i += 1;
      for (;;) {
        const quote = text.indexOf('"', i);
        assert.ok(quote >= 0, 'unterminated quoted field');
        field += text.slice(i, quote);
        i = quote + 1;
        if (text[i] !== '"') break;
        field += '"';
        i += 1;
      }
    } else if (text[i] === ',') {
      record.push(field);
      field = '';
      i += 1;
    } else if (text.startsWith('\r\n', i)) {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i += 2;
    } else {
      assert.ok(text[i] !== '\n' && text[i] !== '\r', `bare line break at ${i}`);
      field += text[i];
      i += 1;
    }
  }
  assert.equal(field, '', 'CSV must end with CRLF');
  assert.equal(record.length, 0, 'CSV must end with CRLF');
  return records;
}

/** Runs statements the application never would, with the append-only triggers out of the way. */
async function tamper(store: AuditStore, statements: string[]): Promise<void> {
  const { db, backend } = rawConnectionForTests(store);
  const unlock =
    backend === 'sqlite'
      ? ['drop trigger if exists audit_events_no_update', 'drop trigger if exists audit_events_no_delete']
      : ['alter table audit_events disable trigger user'];
  for (const statement of [...unlock, ...statements]) await sql.raw(statement).execute(db);
}

/** Swaps every column but position between two rows: the same rows, in another order. */
async function swapContents(store: AuditStore, a: number, b: number): Promise<void> {
  await tamper(store, []);
  const { db } = rawConnectionForTests(store);
  const row = (position: number) =>
    db.selectFrom('audit_events').selectAll().where('position', '=', position).executeTakeFirstOrThrow();
  const { position: _a, ...first } = await row(a);
  const { position: _b, ...second } = await row(b);
  const put = (position: number, values: Partial<typeof first>) =>
    db.updateTable('audit_events').set(values).where('position', '=', position).execute();
  await put(b, { event_id: 'moving' }); // event_id is unique
  await put(a, second);
  await put(b, first);
}

async function rowCount(store: AuditStore): Promise<number> {
  const { db } = rawConnectionForTests(store);
  const row = await db
    .selectFrom('audit_events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A writer in another OS process (same file / same server), started now, writing on "go". */
function childWriter(url: string, writer: number, count: number) {
  const code = `
    const { openAuditStore } = await import(${JSON.stringify(storeModule)});
    const store = await openAuditStore(process.env.AUDIT_URL);
    process.stdout.write('ready\\n');
    await new Promise((resolve) => process.stdin.once('data', resolve));
    for (let i = 1; i <= ${count}; i++) {
      await store.append({
        eventId: 'grant-w${writer}:' + i, occurredAt: new Date().toISOString(), grantId: 'grant-w${writer}',
        type: 'grant.approval_recorded', actor: 'w${writer}', roleId: 'prod-admin', requester: 'alice', data: { i },
      });
      await new Promise((r) => setTimeout(r, Math.random() * 4));
    }
    await store.close();
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    env: { ...process.env, AUDIT_URL: url },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) =>
      reject(new Error(`writer ${writer} exited (${code}) before ready: ${stderr}`)),
    );
  });
  const done = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`writer ${writer} failed: ${stderr}`)),
    );
  });
  done.catch(() => {});
  return { ready, go: () => child.stdin.end('go\n'), done };
}

for (const backend of ['sqlite', 'postgres'] as const) {
  // Under the runner (NODE_ENV=test) PostgreSQL is always there; elsewhere sqlite runs alone.
  const skip = backend === 'postgres' && !hasTestDatabase() && process.env.NODE_ENV !== 'test';
  describe(`audit store on ${backend}`, { skip: skip ? 'JIT_TEST_DATABASE_URL not set' : false }, () => {
    it('records a lifecycle once each, in order, and verifies', () =>
      withStore(backend, async (store) => {
        const events = lifecycle();
        for (const [i, e] of events.entries()) {
          const result = await store.append(e);
          assert.equal(result.position, i + 1);
          assert.equal(result.inserted, true);
          assert.match(result.hash, /^[0-9a-f]{64}$/);
        }
        const lines = await jsonl(store);
        assert.deepEqual(
          lines.map((l) => l.eventId),
          events.map((e) => e.eventId),
        );
        assert.deepEqual(
          lines.map((l) => l.position),
          [1, 2, 3, 4, 5, 6, 7],
        );
        assert.equal(lines[0]?.prevHash, GENESIS_HASH);
        assert.deepEqual(lines[0]?.data, events[0]?.data);
        assert.equal(lines[3]?.actorEmail, null);

        const csv = parseCsv(await exportText(store, {}, 'csv'));
        assert.deepEqual(csv[0], [
          'position',
          'event_id',
          'occurred_at',
          'recorded_at',
          'grant_id',
          'type',
          'actor',
          'actor_email',
          'role_id',
          'requester',
          'data',
          'prev_hash',
          'hash',
        ]);
        assert.equal(csv.length, 8);
        assert.deepEqual(JSON.parse(csv[5]?.[10] ?? ''), events[4]?.data);

        const verified = await store.verify();
        assert.equal(verified.ok, true);
        assert.equal(verified.rowsChecked, 7);
        assert.equal(verified.head?.position, 7);

        const [summary] = (await collect(store.exportGrantSummaries({}, 'jsonl')))
          .split('\n')
          .filter(Boolean);
        assert.deepEqual(JSON.parse(summary ?? ''), {
          grantId: 'grant-01JLIFECYCLE',
          requester: 'alice',
          requesterEmail: 'alice@example.com',
          roleId: 'prod-admin',
          reason: 'INC-42 db failover',
          ticket: 'INC-42',
          approvers: ['bob', 'carol'],
          requestedAt: at(1),
          activatedAt: at(4),
          expiresAt: at(64),
          endedAt: at(6),
          status: 'revoked',
          endState: 'revoked',
          endedBy: 'dave',
          endReason: 'done',
          sessionCount: 1,
          accessKeyIds: ['ASIAEXAMPLE0001'],
          breakGlass: false,
          reviewStatus: null,
          reviewDeadline: null,
          reviewedBy: null,
          reviewedAt: null,
          reviewComment: null,
          reviewEscalations: null,
          reviewOnTime: null,
          requesterKind: 'person',
          onBehalfOf: null,
          onBehalfOfEmail: null,
          executionArn: null,
        });
      }));

    it('writes a retried event once and refuses a different event under the same id', () =>
      withStore(backend, async (store) => {
        const [requested, approval] = lifecycle();
        assert.ok(requested && approval);
        const first = await store.append(requested);
        await store.append(approval);
        const again = await store.append(structuredClone(requested));
        assert.deepEqual(again, { position: first.position, hash: first.hash, inserted: false });
        // The activity, retried by Temporal after a lost reply, is just as harmless.
        const { recordAuditEvent } = createAuditActivities({ store });
        await recordAuditEvent(approval);
        assert.equal(await rowCount(store), 2);
        await assert.rejects(
          store.append({ ...requested, data: { reason: 'changed' } }),
          AuditEventConflictError,
        );
        assert.equal((await store.verify()).ok, true);
      }));

    it('keeps the chain intact under 8 concurrent writers, two in other processes', { timeout: 60_000 }, () =>
      withStore(backend, async (store, url) => {
        const perWriter = 50;
        const children = [6, 7].map((w) => childWriter(url, w, perWriter));
        await Promise.all(children.map((c) => c.ready));
        const stores = await Promise.all(Array.from({ length: 6 }, () => openAuditStore(url)));
        try {
          for (const c of children) c.go();
          await Promise.all([
            ...stores.map(async (s, w) => {
              for (let i = 1; i <= perWriter; i++) {
                await s.append(event(`grant-w${w}`, i, 'grant.approval_recorded', { data: { i } }));
                await new Promise((r) => setTimeout(r, Math.random() * 4));
              }
            }),
            ...children.map((c) => c.done),
          ]);
        } finally {
          await Promise.all(stores.map((s) => s.close()));
        }
        assert.equal(await rowCount(store), 8 * perWriter);
        const verified = await store.verify();
        assert.deepEqual(verified.firstBroken, undefined);
        assert.equal(verified.ok, true);
        assert.equal(verified.rowsChecked, 8 * perWriter);
        const ids = (await jsonl(store)).map((l) => l.eventId);
        assert.equal(new Set(ids).size, 8 * perWriter);
        // Writers really interleaved: some writer's events are not one contiguous run.
        const runs = ids.filter((id, i) => i === 0 || id.split(':')[0] !== ids[i - 1]?.split(':')[0]).length;
        assert.ok(runs > 8, `writers did not interleave (${runs} runs)`);
      }),
    );

    it('refuses updates and deletes at the database', () =>
      withStore(backend, async (store) => {
        for (const e of lifecycle()) await store.append(e);
        const { db } = rawConnectionForTests(store);
        await assert.rejects(
          sql`update audit_events set actor = 'mallory' where position = 2`.execute(db),
          /append-only/,
        );
        await assert.rejects(sql`delete from audit_events where position = 2`.execute(db), /append-only/);
        assert.equal((await store.verify()).ok, true);
      }));

    it('detects an edited row', () =>
      withStore(backend, async (store) => {
        for (const e of lifecycle()) await store.append(e);
        await tamper(store, [
          `update audit_events set data = '{"reason":"nothing to see"}' where position = 1`,
        ]);
        const verified = await store.verify();
        assert.equal(verified.ok, false);
        assert.deepEqual(verified.firstBroken, {
          position: 1,
          eventId: 'grant-01JLIFECYCLE:1',
          problem: 'hash_mismatch',
        });
        assert.equal(verified.rowsChecked, 1);
      }));

    it('detects an edit to a column outside data', () =>
      withStore(backend, async (store) => {
        for (const e of lifecycle()) await store.append(e);
        await tamper(store, [`update audit_events set actor = 'mallory' where position = 3`]);
        assert.deepEqual((await store.verify()).firstBroken, {
          position: 3,
          eventId: 'grant-01JLIFECYCLE:3',
          problem: 'hash_mismatch',
        });
      }));

    it('detects a deleted row at the position after it', () =>
      withStore(backend, async (store) => {
        for (const e of lifecycle()) await store.append(e);
        await tamper(store, ['delete from audit_events where position = 4']);
        const verified = await store.verify();
        assert.equal(verified.ok, false);
        assert.deepEqual(verified.firstBroken, {
          position: 5,
          eventId: 'grant-01JLIFECYCLE:5',
          problem: 'position_gap',
        });
      }));

    it('detects two rows with their contents swapped', () =>
      withStore(backend, async (store) => {
        for (const e of lifecycle()) await store.append(e);
        await swapContents(store, 2, 3);
        const swapped = await store.verify();
        assert.equal(swapped.ok, false);
        assert.deepEqual(swapped.firstBroken, {
          position: 2,
          eventId: 'grant-01JLIFECYCLE:3',
          problem: 'prev_hash_mismatch',
        });
      }));

    it('detects rows renumbered into another order', () =>
      withStore(backend, async (store) => {
        for (const e of lifecycle()) await store.append(e);
        await tamper(store, [
          'update audit_events set position = 100 where position = 5',
          'update audit_events set position = 5 where position = 6',
          'update audit_events set position = 6 where position = 100',
        ]);
        assert.deepEqual((await store.verify()).firstBroken, {
          position: 5,
          eventId: 'grant-01JLIFECYCLE:6',
          problem: 'prev_hash_mismatch',
        });
      }));

    it('exports CSV that neutralises formulas and parses back', () =>
      withStore(backend, async (store) => {
        const nasty = '=cmd|\' /C calc\'!A0, "quoted"\r\nsecond line';
        const grantId = 'grant-01JCSV';
        await store.append(
          event(grantId, 1, 'grant.requested', { requester: '@evil', data: { reason: nasty } }),
        );
        await store.append(
          event(grantId, 2, 'grant.denied', { actor: '+system', requester: '@evil', data: {} }),
        );

        const text = await exportText(store, {}, 'csv');
        assert.ok(text.endsWith('\r\n'));
        assert.ok(!/[^\r]\n/.test(text), 'every line break in the export is CRLF or inside quotes');
        const rows = parseCsv(text);
        assert.equal(rows.length, 3);
        assert.equal(rows[1]?.[9], "'@evil");
        assert.equal(rows[2]?.[6], "'+system");
        assert.deepEqual(JSON.parse(rows[1]?.[10] ?? ''), { reason: nasty });

        const summary = await collect(store.exportGrantSummaries({}, 'csv'));
        const parsed = parseCsv(summary);
        assert.equal(parsed.length, 2);
        const header = parsed[0] ?? [];
        const cell = (name: string) => parsed[1]?.[header.indexOf(name)];
        assert.equal(cell('reason'), `'${nasty}`);
        assert.ok(summary.includes(`"'=cmd|' /C calc'!A0, ""quoted""\r\nsecond line"`));
        assert.equal(cell('requester'), "'@evil");
        assert.equal(cell('end_state'), 'denied');
        assert.equal(cell('ended_by'), "'+system");
      }));

    it('filters exports by grant, requester, role, type and time', () =>
      withStore(backend, async (store) => {
        await store.append(
          event('grant-A', 1, 'grant.requested', { requester: 'alice', roleId: 'prod-admin' }),
        );
        await store.append(
          event('grant-B', 2, 'grant.requested', {
            requester: 'erin',
            actor: 'erin',
            roleId: 'prod-readonly',
          }),
        );
        await store.append(event('grant-A', 3, 'grant.activated', { actor: 'system', roleId: 'prod-admin' }));
        await store.append(
          event('grant-B', 4, 'grant.activated', {
            actor: 'system',
            requester: 'erin',
            roleId: 'prod-readonly',
          }),
        );
        await store.append(event('grant-A', 5, 'grant.expired', { actor: 'system', roleId: 'prod-admin' }));
        await store.append(
          event('grant-B', 6, 'grant.revoked', { actor: 'bob', requester: 'erin', roleId: 'prod-readonly' }),
        );
        const ids = async (filter: AuditFilter) => (await jsonl(store, filter)).map((l) => l.eventId);

        assert.deepEqual(await ids({ grantId: 'grant-A' }), ['grant-A:1', 'grant-A:3', 'grant-A:5']);
        assert.deepEqual(await ids({ requester: 'erin' }), ['grant-B:2', 'grant-B:4', 'grant-B:6']);
        assert.deepEqual(await ids({ roleId: 'prod-admin' }), ['grant-A:1', 'grant-A:3', 'grant-A:5']);
        assert.deepEqual(await ids({ types: ['grant.activated', 'grant.revoked'] }), [
          'grant-A:3',
          'grant-B:4',
          'grant-B:6',
        ]);
        // from inclusive, to exclusive
        assert.deepEqual(await ids({ from: new Date(at(2)), to: new Date(at(5)) }), [
          'grant-B:2',
          'grant-A:3',
          'grant-B:4',
        ]);
        assert.deepEqual(await ids({ requester: 'erin', from: new Date(at(3)), types: ['grant.revoked'] }), [
          'grant-B:6',
        ]);
        assert.deepEqual(await ids({ grantId: 'grant-none' }), []);
        assert.equal(
          await exportText(store, { grantId: 'grant-none' }, 'csv'),
          `${(await exportText(store, {}, 'csv')).split('\r\n')[0]}\r\n`,
        );
        assert.throws(
          () => store.exportEvents({ from: new Date('nope') }, 'csv'),
          /from is not a valid date/,
        );

        const summaries = async (filter: AuditFilter) =>
          (await collect(store.exportGrantSummaries(filter, 'jsonl')))
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as { grantId: string; status: string });
        assert.deepEqual(
          (await summaries({})).map((s) => [s.grantId, s.status]),
          [
            ['grant-A', 'expired'],
            ['grant-B', 'revoked'],
          ],
        );
        assert.deepEqual(
          (await summaries({ requester: 'erin' })).map((s) => s.grantId),
          ['grant-B'],
        );
        assert.deepEqual(
          (await summaries({ types: ['grant.expired'] })).map((s) => s.grantId),
          ['grant-A'],
        );
        // Grant A ended at minute 5: a range starting at 5:30 only overlaps grant B's life.
        assert.deepEqual(
          (await summaries({ from: new Date(t0 + 5.5 * 60_000) })).map((s) => s.grantId),
          ['grant-B'],
        );
        // Nothing requested before minute 1.
        assert.deepEqual(await summaries({ to: new Date(at(1)) }), []);
      }));

    it('refuses secret-looking data and invalid events, as non-retryable activity failures', () =>
      withStore(backend, async (store) => {
        const base = event('grant-S', 1, 'grant.credentials_issued');
        const secretData = [
          { SecretAccessKey: 'x' },
          { secretAccessKey: 'x' },
          { SessionToken: 'x' },
          { credentials: { sessionToken: 'x' } },
          { items: [{ ok: 1 }, { password: 'x' }] },
          { Token: 'x' },
          { refresh_token: 'x' },
        ];
        for (const data of secretData) {
          await assert.rejects(store.append({ ...base, data }), SecretInAuditDataError);
        }
        await assert.rejects(
          store.append({ ...base, type: 'grant.nonsense' as AuditEventType }),
          InvalidAuditEventError,
        );
        await assert.rejects(store.append({ ...base, occurredAt: 'yesterday' }), InvalidAuditEventError);
        await assert.rejects(store.append({ ...base, eventId: '' }), InvalidAuditEventError);
        assert.equal(await rowCount(store), 0);

        const { recordAuditEvent } = createAuditActivities({ store });
        const failure = await recordAuditEvent({ ...base, data: { sessionToken: 'x' } }).then(
          () => assert.fail('accepted a secret'),
          (err: unknown) => err,
        );
        assert.ok(failure instanceof ApplicationFailure);
        assert.equal(failure.nonRetryable, true);
        assert.equal(failure.type, 'audit_data_secret');
        assert.ok(!failure.message.includes('"x"'));

        // What the store cannot help (the database away) stays retryable.
        const broken = createAuditActivities({
          store: { appendBatch: () => Promise.reject(new Error('connect ECONNREFUSED')) },
        });
        await assert.rejects(
          broken.recordAuditEvent(base),
          (err: unknown) => !(err instanceof ApplicationFailure),
        );

        await store.append({
          ...base,
          data: { accessKeyId: 'ASIAEXAMPLE', sessionName: 's', expiresAt: at(60) },
        });
        assert.equal(await rowCount(store), 1);
      }));

    it('streams a 100k-event export in bounded memory', { timeout: 120_000 }, (t) =>
      withStore(backend, async (store) => {
        const total = 100_000;
        const padding = 'x'.repeat(900);
        function* events(): Generator<AuditEventInput> {
          for (let i = 1; i <= total; i++) {
            const grant = `grant-${Math.floor(i / 10)}`;
            yield event(grant, i, 'grant.approval_recorded', {
              occurredAt: new Date(t0 + i * 1000).toISOString(),
              data: { comment: padding, i },
            });
          }
        }
        const loadStarted = Date.now();
        assert.equal(await bulkAppend(store, events()), total);
        const loadMs = Date.now() - loadStarted;

        const heap = liveHeap();
        const baseline = heap();
        let peak = baseline;
        let bytes = 0;
        let rows = 0;
        let chunks = 0;
        const exportStarted = Date.now();
        for await (const chunk of store.exportEvents({}, 'jsonl')) {
          bytes += chunk.length;
          rows += chunk.split('\n').length - 1;
          chunks += 1;
          if (chunks % 10 === 0) peak = Math.max(peak, heap());
        }
        const exportMs = Date.now() - exportStarted;
        peak = Math.max(peak, heap());
        const growthMb = (peak - baseline) / 2 ** 20;
        assert.equal(rows, total);
        assert.ok(bytes > 128 * 2 ** 20, `export should dwarf the bound, was ${bytes} bytes`);
        assert.ok(growthMb < 64, `heap grew ${growthMb.toFixed(1)} MB while streaming`);

        const verifyStarted = Date.now();
        const verified = await store.verify();
        assert.equal(verified.ok, true);
        assert.equal(verified.rowsChecked, total);
        t.diagnostic(
          `${backend}: bulk load ${loadMs} ms, export ${(bytes / 2 ** 20).toFixed(0)} MB in ${exportMs} ms ` +
            `(peak live heap +${growthMb.toFixed(1)} MB), verify ${Date.now() - verifyStarted} ms`,
        );
      }),
    );
  });
}
