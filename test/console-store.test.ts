// What the console adds to the audit store, on both backends: its sessions table (keyed by a hash,
// expiring), the event search behind the auditors' page, and grant summaries from the read model
// that equal the ones folded from the trail.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { AuditEventInput, AuditEventType } from '../common/audit-event.js';
import { summarise } from '../store/export.js';
import { type AuditStore, openAuditStore, rawConnectionForTests, summaryOfView } from '../store/index.js';
import { freshPostgresDatabase, hasTestDatabase } from './support/postgres.js';

type Backend = 'sqlite' | 'postgres';

async function withStore(backend: Backend, fn: (store: AuditStore) => Promise<void>): Promise<void> {
  let url: string;
  let cleanup: () => Promise<void>;
  if (backend === 'postgres') {
    const db = await freshPostgresDatabase('jit_console_test');
    url = db.url;
    cleanup = db.drop;
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'jit-console-store-'));
    url = join(dir, 'audit.db');
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  }
  const store = await openAuditStore(url);
  try {
    await fn(store);
  } finally {
    await store.close();
    await cleanup();
  }
}

const t0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const at = (minutes: number) => new Date(t0 + minutes * 60_000).toISOString();

function event(grantId: string, seq: number, type: AuditEventType, more: Partial<AuditEventInput> = {}) {
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
    ...more,
  } satisfies AuditEventInput;
}

/** Requested, approved twice (one comment), active, credentials twice, extended with an approval, revoked. */
function story(grantId: string): AuditEventInput[] {
  const reviewer = (actor: string, extra: Record<string, unknown> = {}) => ({
    actor,
    actorEmail: `${actor}@example.com`,
    data: { approvals: 1, of: 2, ...extra },
  });
  return [
    event(grantId, 1, 'grant.requested', {
      data: {
        reason: 'INC-42',
        ticket: 'INC-42',
        durationSeconds: 3600,
        requiredApprovals: 2,
        breakGlass: false,
      },
    }),
    event(grantId, 2, 'grant.approval_recorded', reviewer('bob', { comment: 'ok' })),
    event(grantId, 3, 'grant.approval_recorded', reviewer('carol')),
    event(grantId, 4, 'grant.activated', {
      actor: 'system',
      actorEmail: undefined,
      data: { expiresAt: at(64) },
    }),
    event(grantId, 5, 'grant.credentials_issued', {
      data: {
        accessKeyId: 'ASIAEXAMPLE0001',
        sessionName: 's-1',
        sourceIdentity: 'alice@example.com',
        expiresAt: at(20),
      },
    }),
    event(grantId, 6, 'grant.extension_requested', {
      data: { durationSeconds: 1800, reason: 'more', requiredApprovals: 1 },
    }),
    event(grantId, 7, 'grant.approval_recorded', reviewer('dave', { extension: true })),
    event(grantId, 8, 'grant.extended', {
      actor: 'system',
      actorEmail: undefined,
      data: { durationSeconds: 1800, expiresAt: at(94) },
    }),
    event(grantId, 9, 'grant.credentials_issued', {
      data: { accessKeyId: 'ASIAEXAMPLE0002', sessionName: 's-2', expiresAt: at(40) },
    }),
    event(grantId, 10, 'grant.revoked', { data: { reason: 'revoked by alice@example.com: done' } }),
  ];
}

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`console store on ${backend}`, { skip: backend === 'postgres' && !hasTestDatabase() }, () => {
    it('keeps sessions under a hash of their id, gives them back until they expire, and sweeps them', async () => {
      await withStore(backend, async (store) => {
        const sessions = store.consoleSessions;
        const later = new Date(Date.now() + 60_000);
        await sessions.set('session-one', 'sealed-1', later);
        await sessions.set('session-two', 'sealed-2', new Date(Date.now() - 1000));
        assert.equal(await sessions.get('session-one'), 'sealed-1');
        assert.equal(await sessions.get('session-two'), undefined, 'expired');
        assert.equal(await sessions.get('session-three'), undefined);
        await sessions.set('session-one', 'sealed-1b', later);
        assert.equal(await sessions.get('session-one'), 'sealed-1b', 'replaced, not added');
        const rows = await rawConnectionForTests(store)
          .db.selectFrom('console_sessions')
          .selectAll()
          .execute();
        assert.deepEqual(
          rows.map((r) => r.id).sort(),
          ['session-one', 'session-two'].map((id) => createHash('sha256').update(id).digest('hex')).sort(),
        );
        assert.equal(await sessions.sweep(), 1);
        await sessions.destroy('session-one');
        assert.equal(await sessions.get('session-one'), undefined);
      });
    });

    it('searches events newest first, a page at a time, with the export filter', async () => {
      await withStore(backend, async (store) => {
        await store.appendBatch([...story('grant-01JCONSOLESTOREA'), ...story('grant-01JCONSOLESTOREB')]);
        const first = await store.searchEvents({ grantId: 'grant-01JCONSOLESTOREA' }, 4);
        assert.deepEqual(
          first.events.map((e) => e.type),
          ['grant.revoked', 'grant.credentials_issued', 'grant.extended', 'grant.approval_recorded'],
        );
        assert.ok(first.nextBefore);
        const rest = await store.searchEvents({ grantId: 'grant-01JCONSOLESTOREA' }, 100, first.nextBefore);
        assert.equal(first.events.length + rest.events.length, 10);
        assert.equal(rest.nextBefore, undefined);
        const revocations = await store.searchEvents({ types: ['grant.revoked'] }, 10);
        assert.deepEqual(
          revocations.events.map((e) => e.grantId),
          ['grant-01JCONSOLESTOREB', 'grant-01JCONSOLESTOREA'],
        );
        const early = await store.searchEvents({ to: new Date(at(2)) }, 10);
        assert.ok(early.events.every((e) => e.occurredAt < at(2)));
        assert.ok(
          (await store.grants.lastChange('grant-01JCONSOLESTOREA')) < (await store.grants.lastChange()),
        );
      });
    });

    it('a summary from the read model equals the one folded from the trail', async () => {
      await withStore(backend, async (store) => {
        const events = story('grant-01JCONSOLESTOREC');
        await store.appendBatch(events);
        const view = await store.grants.get('grant-01JCONSOLESTOREC');
        assert.ok(view);
        const rows = await rawConnectionForTests(store)
          .db.selectFrom('audit_events')
          .selectAll()
          .where('grant_id', '=', 'grant-01JCONSOLESTOREC')
          .orderBy('position')
          .execute();
        const fromTrail = summarise(rows);
        assert.deepEqual(summaryOfView(view), fromTrail);
        assert.deepEqual(fromTrail?.approvers, ['bob', 'carol', 'dave']);
        assert.deepEqual(fromTrail?.accessKeyIds, ['ASIAEXAMPLE0001', 'ASIAEXAMPLE0002']);
      });
    });
  });
}
