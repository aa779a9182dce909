// The grant list over a large store: `GET /v1/requests?status=active` when the read model holds
// 100,000 grants. The grants are copies of real ones from this run's trail (each template grant's
// events, re-keyed), written through the store's own append, so the rows are what the broker
// writes. They go into a database of their own, served by a second API process with no worker:
// reads never touch Temporal, and the worker's reconciler must not end grants it never started.
import { dirname, join } from 'node:path';
import type { AuditEventInput } from '../../common/audit-event.js';
import { openAuditStore } from '../../store/index.js';
import type { ApiClient } from './http.js';
import { type Latency, latency } from './stats.js';

export interface GrantListResult {
  grants: number;
  active: number;
  seedSeconds: number;
  /** `GET /v1/requests?status=active&limit=50`, first page and a later page by cursor. */
  list: Latency;
  /** `GET /healthz` on the same API process: the HTTP floor. */
  floor: Latency;
  errors: number;
}

/** Copies of `template`'s events for a new grant id (ids, event ids and data re-keyed). */
function copyOf(events: AuditEventInput[], from: string, to: string): AuditEventInput[] {
  return events.map((event) => JSON.parse(JSON.stringify(event).replaceAll(from, to)) as AuditEventInput);
}

/** Fills a new store next to the bench's with `total` grants, `activeShare` of them active. */
export async function seedGrantList(opts: {
  benchAuditFile: string;
  total: number;
  activeShare: number;
  log: (msg: string) => void;
}): Promise<{ databaseUrl: string; active: number; seedSeconds: number }> {
  const source = await openAuditStore(`sqlite:${opts.benchAuditFile}`);
  const templateOf = async (status: 'active' | 'expired' | 'revoked') => {
    const page = await source.grants.list({ status: [status], visibleTo: 'all' }, 1);
    const id = page.items[0]?.id;
    if (!id) throw new Error(`the list figure needs a ${status} grant from the figures before it`);
    const rows = await source.grants.events(id);
    const events = rows.map(
      (row): AuditEventInput => ({
        eventId: row.event_id,
        occurredAt: row.occurred_at,
        grantId: row.grant_id,
        type: row.type as AuditEventInput['type'],
        actor: row.actor,
        ...(row.actor_email ? { actorEmail: row.actor_email } : {}),
        roleId: row.role_id,
        requester: row.requester,
        data: JSON.parse(row.data) as Record<string, unknown>,
      }),
    );
    return { id, events };
  };
  const active = await templateOf('active');
  const ended = await templateOf('revoked').catch(() => templateOf('expired'));
  await source.close();

  const databaseUrl = `sqlite:${join(dirname(opts.benchAuditFile), 'grant-list.sqlite')}`;
  const store = await openAuditStore(databaseUrl);
  const started = performance.now();
  const activeEvery = Math.round(1 / opts.activeShare);
  let activeCount = 0;
  const batch = 250;
  for (let i = 0; i < opts.total; i += batch) {
    const events: AuditEventInput[] = [];
    for (let j = i; j < Math.min(opts.total, i + batch); j++) {
      // Grant ids keep the template's length and alphabet: base 32 digits, with the four letters
      // Crockford's alphabet lacks (I, L, O, U) moved to the four it has beyond V.
      const suffix = j
        .toString(32)
        .toUpperCase()
        .replace(/[ILOU]/g, (c) => ({ I: 'W', L: 'X', O: 'Y', U: 'Z' })[c] as string)
        .padStart(8, '0');
      const template = j % activeEvery === 0 ? active : ended;
      if (template === active) activeCount += 1;
      events.push(...copyOf(template.events, template.id, `${template.id.slice(0, -8)}${suffix}`));
    }
    await store.appendBatch(events);
    if (i % 20_000 === 0) opts.log(`list figure: ${i} of ${opts.total} grants written`);
  }
  await store.close();
  return { databaseUrl, active: activeCount, seedSeconds: (performance.now() - started) / 1000 };
}

/** Pages through the active list as an auditor (who sees every grant), against the HTTP floor. */
export async function measureGrantList(opts: {
  api: ApiClient;
  token: string;
  requests: number;
}): Promise<Pick<GrantListResult, 'list' | 'floor' | 'errors'>> {
  const list: number[] = [];
  const floor: number[] = [];
  let errors = 0;
  let cursor: string | undefined;
  for (let i = 0; i < opts.requests; i++) {
    const path = `/v1/requests?status=active&limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page = await opts.api.call('GET', path, opts.token);
    if (page.status !== 200 || !Array.isArray(page.body.requests) || page.body.requests.length === 0)
      errors += 1;
    else list.push(page.ms);
    // Every fifth request starts over from the first page; the others follow the cursor.
    const next = page.body.nextCursor;
    cursor = i % 5 === 4 || typeof next !== 'string' ? undefined : next;
    const health = await opts.api.call('GET', '/healthz', opts.token);
    if (health.status === 200) floor.push(health.ms);
  }
  return { list: latency(list), floor: latency(floor), errors };
}
