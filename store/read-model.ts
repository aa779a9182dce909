// The grants read model: what every read of the API, the console and the CLI comes from. Written
// only by append.ts, in the transaction that appends the audit events it folds; rebuilt from the
// audit trail by `rebuildReadModel` (npm run read-model -- rebuild).
import { type Compilable, type Kysely, sql } from 'kysely';
import type { GrantListItem, GrantStatus, GrantView } from '../common/grant.js';
import { type ProjectedEvent, projectGrant } from '../common/grant-projection.js';
import type {
  AuditDatabase,
  AuditRow,
  GrantApprovalsTable,
  GrantSessionsTable,
  GrantsTable,
} from './database.js';

export interface GrantRows {
  grant: GrantsTable;
  approvals: GrantApprovalsTable[];
  sessions: GrantSessionsTable[];
}

/** What currently waits for a review, as grants.awaiting and grant_approvals.target say it. */
export function awaitingOf(view: GrantView): string | null {
  if (view.status === 'pending') return 'request';
  if (view.status === 'active' && view.pendingExtension)
    return `extension@${view.pendingExtension.requestedAt}`;
  // A break-glass grant's post-hoc review waits for its reviewers, whether or not the grant has ended.
  if (view.review?.status === 'open') return 'review';
  return null;
}

export function grantRows(view: GrantView, lastPosition: number, requestDigest: string | null): GrantRows {
  const approvals: GrantApprovalsTable[] = view.approvals.map((a) => ({
    grant_id: view.id,
    target: 'request',
    approver_sub: a.by,
    approver_email: a.email ?? null,
    at: a.at,
    comment: a.comment ?? null,
  }));
  const extension = view.pendingExtension;
  if (extension) {
    for (const a of extension.approvals) {
      approvals.push({
        grant_id: view.id,
        target: `extension@${extension.requestedAt}`,
        approver_sub: a.by,
        approver_email: a.email ?? null,
        at: a.at,
        comment: a.comment ?? null,
      });
    }
  }
  return {
    grant: {
      id: view.id,
      status: view.status,
      role_id: view.role.id,
      role_arn: view.role.arn ?? null,
      requester_sub: view.requester.sub,
      requester_email: view.requester.email ?? null,
      requester_kind: view.requester.kind ?? 'person',
      break_glass: view.breakGlass ? 1 : 0,
      duration_seconds: view.duration,
      reason: view.reason,
      ticket: view.ticket ?? null,
      required_approvals: view.requiredApprovals,
      approval_count: view.approvals.length,
      created_at: view.createdAt,
      activated_at: view.activatedAt ?? null,
      expires_at: view.expiresAt ?? null,
      ended_at: view.endedAt ?? null,
      end_reason: view.endReason ?? null,
      ended_by: view.endedBy ?? null,
      awaiting: awaitingOf(view),
      request_digest: requestDigest,
      last_position: lastPosition,
      view: JSON.stringify(view),
    },
    approvals,
    sessions: view.sessions.map((s) => ({
      grant_id: view.id,
      session_name: s.sessionName,
      access_key_id: s.accessKeyId,
      source_identity: s.sourceIdentity ?? null,
      issued_at: s.issuedAt ?? null,
      expires_at: s.expiresAt,
    })),
  };
}

/** The statements that make the stored rows of one grant equal `rows`. */
export function writeStatements(db: Kysely<AuditDatabase>, rows: GrantRows): Compilable[] {
  const { id: _id, ...changes } = rows.grant;
  const statements: Compilable[] = [
    db
      .insertInto('grants')
      .values(rows.grant)
      .onConflict((oc) => oc.column('id').doUpdateSet(changes)),
    db.deleteFrom('grant_approvals').where('grant_id', '=', rows.grant.id),
    db.deleteFrom('grant_sessions').where('grant_id', '=', rows.grant.id),
  ];
  if (rows.approvals.length > 0) statements.push(db.insertInto('grant_approvals').values(rows.approvals));
  if (rows.sessions.length > 0) statements.push(db.insertInto('grant_sessions').values(rows.sessions));
  return statements;
}

export const selectStoredGrant = (db: Kysely<AuditDatabase>, id: string) =>
  db.selectFrom('grants').select(['view', 'request_digest']).where('id', '=', id);

/** Folds a batch of appended rows into the views they touch; `load` reads a grant's stored view. */
export function foldBatch(
  rows: readonly AuditRow[],
  load: (grantId: string) => { view: GrantView; requestDigest: string | null } | undefined,
): GrantRows[] {
  const touched = new Map<string, { view: GrantView | undefined; digest: string | null; position: number }>();
  for (const row of rows) {
    if (!row.type.startsWith('grant.')) continue;
    let entry = touched.get(row.grant_id);
    if (!entry) {
      const stored = load(row.grant_id);
      entry = { view: stored?.view, digest: stored?.requestDigest ?? null, position: 0 };
      touched.set(row.grant_id, entry);
    }
    const event = projectedEventOf(row);
    entry.view = projectGrant(entry.view, event);
    if (row.type === 'grant.requested' && typeof event.data.requestDigest === 'string')
      entry.digest = event.data.requestDigest;
    entry.position = row.position;
  }
  const out: GrantRows[] = [];
  for (const { view, digest, position } of touched.values()) {
    if (view) out.push(grantRows(view, position, digest));
  }
  return out;
}

export function projectedEventOf(row: AuditRow): ProjectedEvent {
  return {
    grantId: row.grant_id,
    type: row.type as ProjectedEvent['type'],
    actor: row.actor,
    actorEmail: row.actor_email,
    roleId: row.role_id,
    requester: row.requester,
    occurredAt: row.occurred_at,
    data: JSON.parse(row.data) as Record<string, unknown>,
  };
}

// ---- reads ----

export interface GrantListFilter {
  status?: GrantStatus[];
  roleId?: string;
  requester?: string;
  /** `workload`: grants pipelines and agents asked for; `person`: people's. */
  requesterKind?: 'person' | 'workload';
  /** Only what waits for this reviewer: pending or extension-pending, of these roles, not theirs, not yet approved by them. */
  awaitingReviewBy?: { sub: string; roles: string[] };
  createdFrom?: string;
  createdTo?: string;
  /** Visibility: everything (auditors), or own grants plus those of roles the caller reviews. */
  visibleTo: 'all' | { sub: string; reviewedRoles: string[] };
}

export interface GrantPage<Item = GrantListItem> {
  items: Item[];
  /** Opaque; absent on the last page. */
  nextCursor?: string;
}

const encodeCursor = (createdAt: string, id: string) =>
  Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');

/** undefined when the cursor is not one this store made. */
export function decodeCursor(cursor: string): { createdAt: string; id: string } | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && typeof value[0] === 'string' && typeof value[1] === 'string')
      return { createdAt: value[0], id: value[1] };
  } catch {}
  return undefined;
}

export function listItemOf(view: GrantView): GrantListItem {
  const { sessions: _s, policyIds: _p, timeline: _t, ...item } = view;
  return item;
}

export async function getGrant(db: Kysely<AuditDatabase>, id: string): Promise<GrantView | undefined> {
  const row = await db.selectFrom('grants').select('view').where('id', '=', id).executeTakeFirst();
  return row ? (JSON.parse(row.view) as GrantView) : undefined;
}

export async function getGrantWithDigest(
  db: Kysely<AuditDatabase>,
  id: string,
): Promise<{ view: GrantView; requestDigest: string | null } | undefined> {
  const row = await selectStoredGrant(db, id).executeTakeFirst();
  return row ? { view: JSON.parse(row.view) as GrantView, requestDigest: row.request_digest } : undefined;
}

/**
 * Newest first, keyset-paged on (created_at, id): both never change once written, so a page never
 * repeats or skips a grant however many are written meanwhile.
 */
export async function listGrants(
  db: Kysely<AuditDatabase>,
  filter: GrantListFilter,
  limit: number,
  cursor?: { createdAt: string; id: string },
): Promise<GrantPage> {
  const page = await listGrantViews(db, filter, limit, cursor);
  return { ...page, items: page.items.map(listItemOf) };
}

/** listGrants with whole views (sessions, timeline): for exports. */
export async function listGrantViews(
  db: Kysely<AuditDatabase>,
  filter: GrantListFilter,
  limit: number,
  cursor?: { createdAt: string; id: string },
): Promise<GrantPage<GrantView>> {
  let q = db.selectFrom('grants as g').select(['g.view', 'g.created_at', 'g.id']);
  if (filter.status && filter.status.length > 0) q = q.where('g.status', 'in', filter.status);
  if (filter.roleId !== undefined) q = q.where('g.role_id', '=', filter.roleId);
  if (filter.requester !== undefined) q = q.where('g.requester_sub', '=', filter.requester);
  if (filter.requesterKind !== undefined) q = q.where('g.requester_kind', '=', filter.requesterKind);
  if (filter.createdFrom !== undefined) q = q.where('g.created_at', '>=', filter.createdFrom);
  if (filter.createdTo !== undefined) q = q.where('g.created_at', '<', filter.createdTo);
  const visible = filter.visibleTo;
  if (visible !== 'all') {
    q = q.where((eb) =>
      visible.reviewedRoles.length > 0
        ? eb.or([eb('g.requester_sub', '=', visible.sub), eb('g.role_id', 'in', visible.reviewedRoles)])
        : eb('g.requester_sub', '=', visible.sub),
    );
  }
  const reviewer = filter.awaitingReviewBy;
  if (reviewer) {
    if (reviewer.roles.length === 0) return { items: [] };
    q = q
      .where('g.awaiting', 'is not', null)
      .where('g.role_id', 'in', reviewer.roles)
      .where('g.requester_sub', '<>', reviewer.sub)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('grant_approvals as a')
              .select(sql`1`.as('one'))
              .whereRef('a.grant_id', '=', 'g.id')
              .whereRef('a.target', '=', 'g.awaiting')
              .where('a.approver_sub', '=', reviewer.sub),
          ),
        ),
      );
  }
  if (cursor) {
    q = q.where((eb) =>
      eb.or([
        eb('g.created_at', '<', cursor.createdAt),
        eb.and([eb('g.created_at', '=', cursor.createdAt), eb('g.id', '<', cursor.id)]),
      ]),
    );
  }
  const rows = await q
    .orderBy('g.created_at', 'desc')
    .orderBy('g.id', 'desc')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map((r) => JSON.parse(r.view) as GrantView),
    ...(rows.length > limit && last ? { nextCursor: encodeCursor(last.created_at, last.id) } : {}),
  };
}

export async function countByStatus(db: Kysely<AuditDatabase>): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('grants')
    .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('status')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

/**
 * A number that grows whenever the read model changes: the position of the last event folded into
 * this grant, or (without an id) the head of the trail. Pages that follow grants live compare it.
 */
export async function lastChange(db: Kysely<AuditDatabase>, id?: string): Promise<number> {
  if (id !== undefined) {
    const row = await db.selectFrom('grants').select('last_position').where('id', '=', id).executeTakeFirst();
    return Number(row?.last_position ?? 0);
  }
  const row = await db
    .selectFrom('audit_events')
    .select((eb) => eb.fn.max('position').as('head'))
    .executeTakeFirst();
  return Number(row?.head ?? 0);
}

/** Has the audit trail recorded an end for this grant? An ended grant never issues again. */
export async function grantHasEnded(db: Kysely<AuditDatabase>, id: string): Promise<boolean> {
  const row = await db.selectFrom('grants').select('ended_at').where('id', '=', id).executeTakeFirst();
  return row?.ended_at != null;
}

/** Grants the read model says are pending or active: what the reconciler checks against Temporal. */
export async function openGrantIds(db: Kysely<AuditDatabase>, limit: number, after = ''): Promise<string[]> {
  const rows = await db
    .selectFrom('grants')
    .select('id')
    .where('ended_at', 'is', null)
    .where('id', '>', after)
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

// ---- rebuild and check ----

/** Folds audit rows, given in chain order, into every grant's read-model rows. */
export class TrailFold {
  private readonly views = new Map<
    string,
    { view: GrantView | undefined; digest: string | null; position: number }
  >();

  add(row: AuditRow): void {
    if (!row.type.startsWith('grant.')) return;
    const entry = this.views.get(row.grant_id) ?? { view: undefined, digest: null, position: 0 };
    const event = projectedEventOf(row);
    entry.view = projectGrant(entry.view, event);
    if (row.type === 'grant.requested' && typeof event.data.requestDigest === 'string')
      entry.digest = event.data.requestDigest;
    entry.position = row.position;
    this.views.set(row.grant_id, entry);
  }

  result(): Map<string, GrantRows> {
    const out = new Map<string, GrantRows>();
    for (const [id, { view, digest, position }] of this.views) {
      if (view) out.set(id, grantRows(view, position, digest));
    }
    return out;
  }
}

/** The grant events of the trail in chain order, one page at a time. */
export const grantEventsAfter = (db: Kysely<AuditDatabase>, after: number, limit: number) =>
  db
    .selectFrom('audit_events')
    .selectAll()
    .where('position', '>', after)
    .where('type', 'like', 'grant.%')
    .orderBy('position')
    .limit(limit);

export async function foldTrail(db: Kysely<AuditDatabase>): Promise<Map<string, GrantRows>> {
  const fold = new TrailFold();
  let after = 0;
  for (;;) {
    const rows = await grantEventsAfter(db, after, 5000).execute();
    for (const row of rows) fold.add(row);
    const last = rows.at(-1);
    if (!last) return fold.result();
    after = last.position;
  }
}

export interface ReadModelDifference {
  grantId: string;
  problem: 'missing' | 'unexpected' | 'different';
}

/** Compares the stored read model with a fold of the audit trail; empty when they agree. */
export async function checkReadModel(db: Kysely<AuditDatabase>): Promise<ReadModelDifference[]> {
  const expected = await foldTrail(db);
  const stored = await db.selectFrom('grants').selectAll().execute();
  const approvals = await db.selectFrom('grant_approvals').selectAll().execute();
  const sessions = await db.selectFrom('grant_sessions').selectAll().execute();
  const key = (rows: object[]) =>
    JSON.stringify(rows.map((r) => JSON.stringify(r, Object.keys(r).sort())).sort());
  const differences: ReadModelDifference[] = [];
  for (const grant of stored) {
    const want = expected.get(grant.id);
    expected.delete(grant.id);
    if (!want) {
      differences.push({ grantId: grant.id, problem: 'unexpected' });
      continue;
    }
    const same =
      key([normalizeRow(grant)]) === key([normalizeRow(want.grant)]) &&
      key(approvals.filter((a) => a.grant_id === grant.id)) === key(want.approvals) &&
      key(sessions.filter((s) => s.grant_id === grant.id)) === key(want.sessions);
    if (!same) differences.push({ grantId: grant.id, problem: 'different' });
  }
  for (const id of expected.keys()) differences.push({ grantId: id, problem: 'missing' });
  return differences;
}

// PostgreSQL returns integers as numbers here; SQLite too. Views compare as parsed JSON.
function normalizeRow(row: GrantsTable): object {
  return { ...row, last_position: Number(row.last_position), view: JSON.parse(row.view) };
}

/** The statements that replace the whole read model by `rows`. */
export function replaceStatements(db: Kysely<AuditDatabase>, rows: Iterable<GrantRows>): Compilable[] {
  const statements: Compilable[] = [
    db.deleteFrom('grant_approvals'),
    db.deleteFrom('grant_sessions'),
    db.deleteFrom('grants'),
  ];
  for (const grant of rows) statements.push(...writeStatements(db, grant));
  return statements;
}

/** A grant's audit events in chain order (the reconciler reads the sessions it issued). */
export async function grantEvents(db: Kysely<AuditDatabase>, grantId: string): Promise<AuditRow[]> {
  return db
    .selectFrom('audit_events')
    .selectAll()
    .where('grant_id', '=', grantId)
    .orderBy('position')
    .execute();
}
