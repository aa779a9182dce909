// The export filter, applied in SQL so only matching rows leave the database.
import type { Kysely, SelectQueryBuilder } from 'kysely';
import { foldReview, isReviewEvent, type ReviewView } from '../common/breakglass-review.js';
import type { GrantView } from '../common/grant.js';
import { type AuditDatabase, type AuditRow, auditColumns } from './database.js';
import { InvalidAuditFilterError } from './errors.js';

export interface AuditFilter {
  /** Inclusive, on occurred_at. */
  from?: Date;
  /** Exclusive, on occurred_at. */
  to?: Date;
  requester?: string;
  roleId?: string;
  grantId?: string;
  /** Event types; absent or empty means every type. */
  types?: string[];
}

export type ExportFormat = 'jsonl' | 'csv';

// Stored timestamps are `toISOString()` text, so comparing text compares time.
export function isoBound(date: Date | undefined, name: string): string | undefined {
  if (date === undefined) return undefined;
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw new InvalidAuditFilterError(`${name} is not a valid date`);
  }
  const iso = date.toISOString();
  if (iso.length !== 24) throw new InvalidAuditFilterError(`${name} is out of range`);
  return iso;
}

export function checkFormat(format: string): asserts format is ExportFormat {
  if (format !== 'jsonl' && format !== 'csv') {
    throw new InvalidAuditFilterError(`unknown export format ${JSON.stringify(format)}`);
  }
}

type EventsQuery<O> = SelectQueryBuilder<AuditDatabase, 'audit_events', O>;

/** Narrows a query on audit_events by everything in the filter except the time range. */
export function whereAttributes<O>(query: EventsQuery<O>, filter: AuditFilter): EventsQuery<O> {
  let q = query;
  if (filter.requester !== undefined) q = q.where('requester', '=', filter.requester);
  if (filter.roleId !== undefined) q = q.where('role_id', '=', filter.roleId);
  if (filter.grantId !== undefined) q = q.where('grant_id', '=', filter.grantId);
  if (filter.types && filter.types.length > 0) q = q.where('type', 'in', filter.types);
  return q;
}

/** Narrows by every field of the filter. */
export function whereFilter<O>(query: EventsQuery<O>, filter: AuditFilter): EventsQuery<O> {
  let q = whereAttributes(query, filter);
  const from = isoBound(filter.from, 'from');
  const to = isoBound(filter.to, 'to');
  if (from !== undefined) q = q.where('occurred_at', '>=', from);
  if (to !== undefined) q = q.where('occurred_at', '<', to);
  return q;
}

// ASCII triggers plus their full-width forms, which some spreadsheets also evaluate.
const FORMULA_START = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;
const NEEDS_QUOTES = /[",\r\n]/;

export type CsvValue = string | number | null | undefined;

// Control characters other than tab and line breaks (NUL, ESC, BEL, C1): written as `\u0000`, so
// no terminal or tool that reads the file acts on them, and they stay visible instead of dropped.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;
const escapeControls = (text: string) =>
  text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value);
  const text = FORMULA_START.test(value) ? `'${escapeControls(value)}` : escapeControls(value);
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvRow(values: readonly CsvValue[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}

export const EXPORT_PAGE_SIZE = 1000;

/** Matching rows in chain order, one page at a time. */
export async function* eventPages(
  db: Kysely<AuditDatabase>,
  filter: AuditFilter,
  pageSize = EXPORT_PAGE_SIZE,
): AsyncGenerator<AuditRow[]> {
  let after = 0;
  for (;;) {
    const rows = await whereFilter(db.selectFrom('audit_events').selectAll(), filter)
      .where('position', '>', after)
      .orderBy('position')
      .limit(pageSize)
      .execute();
    if (rows.length > 0) yield rows;
    const last = rows.at(-1);
    if (!last || rows.length < pageSize) return;
    after = last.position;
  }
}

/**
 * An event as readers outside the store get it: keys as in the event contract (`AuditEventInput`)
 * plus the store's position, recordedAt, prevHash and hash, enough to recompute the chain.
 */
export interface AuditEventRecord {
  position: number;
  eventId: string;
  occurredAt: string;
  recordedAt: string;
  grantId: string;
  type: string;
  actor: string;
  actorEmail: string | null;
  roleId: string;
  requester: string;
  data: unknown;
  prevHash: string;
  hash: string;
}

export function eventRecord(row: AuditRow): AuditEventRecord {
  return {
    position: row.position,
    eventId: row.event_id,
    occurredAt: row.occurred_at,
    recordedAt: row.recorded_at,
    grantId: row.grant_id,
    type: row.type,
    actor: row.actor,
    actorEmail: row.actor_email,
    roleId: row.role_id,
    requester: row.requester,
    data: parseData(row.data),
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** One JSON object per line: `eventRecord`. */
export function jsonlLine(row: AuditRow): string {
  return `${JSON.stringify(eventRecord(row))}\n`;
}

export interface EventPage {
  events: AuditEventRecord[];
  /** Pass as `before` for the next (older) page; absent on the last page. */
  nextBefore?: number;
}

/** Matching events, newest first, `limit` at a time, before a position: what a search page shows. */
export async function searchEvents(
  db: Kysely<AuditDatabase>,
  filter: AuditFilter,
  limit: number,
  before?: number,
): Promise<EventPage> {
  let query = whereFilter(db.selectFrom('audit_events').selectAll(), filter);
  if (before !== undefined) query = query.where('position', '<', before);
  const rows = await query
    .orderBy('position', 'desc')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    events: page.map(eventRecord),
    ...(rows.length > limit && last ? { nextBefore: last.position } : {}),
  };
}

/** A tampered row whose data no longer parses is exported as its text; verify names it. */
function parseData(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function csvLine(row: AuditRow): string {
  return csvRow(auditColumns.map((col) => row[col]));
}

export async function* exportEventText(
  db: Kysely<AuditDatabase>,
  filter: AuditFilter,
  format: ExportFormat,
): AsyncGenerator<string> {
  checkFormat(format);
  if (format === 'csv') yield csvRow(auditColumns);
  const line = format === 'csv' ? csvLine : jsonlLine;
  for await (const rows of eventPages(db, filter)) {
    let chunk = '';
    for (const row of rows) chunk += line(row);
    yield chunk;
  }
}

export const SUMMARY_PAGE_SIZE = 500;

export interface GrantSummary {
  grantId: string;
  requester: string;
  requesterEmail: string | null;
  roleId: string;
  reason: string | null;
  ticket: string | null;
  /** Approvers' `sub`s, in approval order. */
  approvers: string[];
  requestedAt: string;
  activatedAt: string | null;
  expiresAt: string | null;
  endedAt: string | null;
  /** pending, active, or the end state. */
  status: string;
  /** denied, cancelled, timed_out, expired, revoked, failed; null while the grant is open. */
  endState: string | null;
  endedBy: string | null;
  endReason: string | null;
  sessionCount: number;
  accessKeyIds: string[];
  breakGlass: boolean;
  /** Break-glass grants: open, acknowledged or flagged; null for other grants. */
  reviewStatus: 'open' | 'acknowledged' | 'flagged' | null;
  reviewDeadline: string | null;
  reviewedBy: string | null;
  reviewedAt: string | null;
  reviewComment: string | null;
  reviewEscalations: number | null;
  /** Decided by the deadline; false once it escalated (decided late or still open); null while it may still be. */
  reviewOnTime: boolean | null;
  /** person or workload (a pipeline, agent or state machine). */
  requesterKind: string;
  /** The person a workload asked for, if it said so. */
  onBehalfOf: string | null;
  onBehalfOfEmail: string | null;
  /** The Step Functions execution that asked through the queue. */
  executionArn: string | null;
}

export const summaryColumns = [
  'grant_id',
  'requester',
  'requester_email',
  'role_id',
  'reason',
  'ticket',
  'approvers',
  'requested_at',
  'activated_at',
  'expires_at',
  'ended_at',
  'status',
  'end_state',
  'ended_by',
  'end_reason',
  'session_count',
  'access_key_ids',
  'break_glass',
  'review_status',
  'review_deadline',
  'reviewed_by',
  'reviewed_at',
  'review_comment',
  'review_escalations',
  'review_on_time',
  'requester_kind',
  'on_behalf_of',
  'on_behalf_of_email',
  'execution_arn',
] as const;

const endTypes = new Set([
  'grant.denied',
  'grant.cancelled',
  'grant.timed_out',
  'grant.expired',
  'grant.revoked',
  'grant.failed',
]);

// Data keys read here (the grant workflow writes them): requested {reason, ticket};
// activated / extended {expiresAt}; credentials_issued {accessKeyId}; end events {reason}.
// Missing keys stay null.
const text = (data: Record<string, unknown>, key: string): string | null =>
  typeof data[key] === 'string' ? (data[key] as string) : null;

/** Folds one grant's events (in chain order, starting with grant.requested). */
export function summarise(events: readonly AuditRow[]): GrantSummary | undefined {
  const requested = events.find((e) => e.type === 'grant.requested');
  if (!requested) return undefined;
  const requestData = dataOf(requested);
  const forPerson = (requestData.onBehalfOf ?? {}) as Record<string, unknown>;
  const execution = (requestData.stepFunctions ?? {}) as Record<string, unknown>;
  const summary: GrantSummary = {
    grantId: requested.grant_id,
    requester: requested.requester,
    requesterEmail: requested.actor === requested.requester ? requested.actor_email : null,
    roleId: requested.role_id,
    reason: text(requestData, 'reason'),
    ticket: text(requestData, 'ticket'),
    approvers: [],
    requestedAt: requested.occurred_at,
    activatedAt: null,
    expiresAt: null,
    endedAt: null,
    status: 'pending',
    endState: null,
    endedBy: null,
    endReason: null,
    sessionCount: 0,
    accessKeyIds: [],
    breakGlass: requestData.breakGlass === true,
    reviewStatus: null,
    reviewDeadline: null,
    reviewedBy: null,
    reviewedAt: null,
    reviewComment: null,
    reviewEscalations: null,
    reviewOnTime: null,
    requesterKind: requestData.actorKind === 'workload' ? 'workload' : 'person',
    onBehalfOf: text(forPerson, 'sub'),
    onBehalfOfEmail: text(forPerson, 'email'),
    executionArn: text(execution, 'executionArn'),
  };
  let review: ReviewView | undefined;
  for (const event of events) {
    const data = dataOf(event);
    if (isReviewEvent(event.type)) {
      review = foldReview(review, {
        type: event.type,
        actor: event.actor,
        actorEmail: event.actor_email,
        occurredAt: event.occurred_at,
        data,
      });
    } else if (event.type === 'grant.approval_recorded') {
      if (!summary.approvers.includes(event.actor)) summary.approvers.push(event.actor);
    } else if (event.type === 'grant.activated' || event.type === 'grant.extended') {
      if (event.type === 'grant.activated') summary.activatedAt ??= event.occurred_at;
      summary.expiresAt = text(data, 'expiresAt') ?? summary.expiresAt;
      if (!summary.endState) summary.status = 'active';
    } else if (event.type === 'grant.credentials_issued') {
      summary.sessionCount += 1;
      const keyId = text(data, 'accessKeyId');
      if (keyId) summary.accessKeyIds.push(keyId);
    } else if (endTypes.has(event.type) && !summary.endState) {
      summary.endState = event.type.slice('grant.'.length);
      summary.status = summary.endState;
      summary.endedAt = event.occurred_at;
      summary.endedBy = event.actor;
      summary.endReason = text(data, 'reason');
    }
  }
  return review ? withReview(summary, review) : summary;
}

function withReview(summary: GrantSummary, review: ReviewView): GrantSummary {
  const decided = review.status === 'decided';
  return {
    ...summary,
    reviewStatus: decided ? (review.outcome ?? 'acknowledged') : 'open',
    reviewDeadline: review.deadline,
    reviewedBy: review.reviewer ?? null,
    reviewedAt: review.decidedAt ?? null,
    reviewComment: review.comment ?? null,
    reviewEscalations: review.escalations,
    reviewOnTime: decided ? review.onTime === true : review.escalations > 0 ? false : null,
  };
}

function dataOf(row: AuditRow): Record<string, unknown> {
  try {
    const data: unknown = JSON.parse(row.data);
    return data !== null && typeof data === 'object' ? (data as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * Grants matching the filter: requester / role / grant id as given; a time range selects grants
 * whose life [requested, ended] overlaps [from, to); `types` keeps grants with at least one
 * event of those types (e.g. `grant.revoked`).
 */
export async function* grantSummaries(
  db: Kysely<AuditDatabase>,
  filter: AuditFilter,
  pageSize = SUMMARY_PAGE_SIZE,
): AsyncGenerator<GrantSummary[]> {
  const from = isoBound(filter.from, 'from');
  const to = isoBound(filter.to, 'to');
  const types = filter.types && filter.types.length > 0 ? new Set(filter.types) : undefined;
  const { types: _types, ...attributes } = filter;
  let after = 0;
  for (;;) {
    let query = whereAttributes(db.selectFrom('audit_events').select(['position', 'grant_id']), attributes)
      .where('type', '=', 'grant.requested')
      .where('position', '>', after);
    if (to !== undefined) query = query.where('occurred_at', '<', to);
    const starts = await query.orderBy('position').limit(pageSize).execute();
    const last = starts.at(-1);
    if (!last) return;
    after = last.position;

    const grantIds = starts.map((s) => s.grant_id);
    const rows = await db
      .selectFrom('audit_events')
      .selectAll()
      .where('grant_id', 'in', grantIds)
      .where('type', 'like', 'grant.%')
      .orderBy('position')
      .execute();
    const byGrant = new Map<string, AuditRow[]>(grantIds.map((id) => [id, []]));
    for (const row of rows) byGrant.get(row.grant_id)?.push(row);

    const page: GrantSummary[] = [];
    for (const events of byGrant.values()) {
      const summary = summarise(events);
      if (!summary) continue;
      if (from !== undefined && summary.endedAt !== null && summary.endedAt < from) continue;
      if (types && !events.some((e) => types.has(e.type))) continue;
      page.push(summary);
    }
    if (page.length > 0) yield page;
    if (starts.length < pageSize) return;
  }
}

export function summaryCsvLine(s: GrantSummary): string {
  return csvRow([
    s.grantId,
    s.requester,
    s.requesterEmail,
    s.roleId,
    s.reason,
    s.ticket,
    s.approvers.join(','),
    s.requestedAt,
    s.activatedAt,
    s.expiresAt,
    s.endedAt,
    s.status,
    s.endState,
    s.endedBy,
    s.endReason,
    s.sessionCount,
    s.accessKeyIds.join(','),
    String(s.breakGlass),
    s.reviewStatus,
    s.reviewDeadline,
    s.reviewedBy,
    s.reviewedAt,
    s.reviewComment,
    s.reviewEscalations,
    s.reviewOnTime === null ? null : String(s.reviewOnTime),
    s.requesterKind,
    s.onBehalfOf,
    s.onBehalfOfEmail,
    s.executionArn,
  ]);
}

/** A summary as one line of the export format. */
export function summaryLine(s: GrantSummary, format: ExportFormat): string {
  return format === 'csv' ? summaryCsvLine(s) : `${JSON.stringify(s)}\n`;
}

/** The header line of a summary export (CSV only). */
export const summaryHeader = (format: ExportFormat): string =>
  format === 'csv' ? csvRow(summaryColumns) : '';

export async function* exportSummaryText(
  db: Kysely<AuditDatabase>,
  filter: AuditFilter,
  format: ExportFormat,
): AsyncGenerator<string> {
  checkFormat(format);
  if (format === 'csv') yield summaryHeader(format);
  for await (const page of grantSummaries(db, filter)) {
    let chunk = '';
    for (const s of page) chunk += summaryLine(s, format);
    yield chunk;
  }
}

const endStates = new Set<string>(['denied', 'cancelled', 'timed_out', 'expired', 'revoked', 'failed']);

/**
 * The summary of a grant from its read-model view. The read model is a fold of the same events
 * `summarise` reads, so both give the same summary (test/console-store.test.ts holds them to it);
 * the console exports the grants a search shows with it.
 */
export function summaryOfView(view: GrantView): GrantSummary {
  const approvers: string[] = [];
  for (const entry of view.timeline) {
    if (entry.type === 'approved' && !approvers.includes(entry.by)) approvers.push(entry.by);
  }
  const ended = endStates.has(view.status);
  const summary: GrantSummary = {
    grantId: view.id,
    requester: view.requester.sub,
    requesterEmail: view.requester.email ?? null,
    roleId: view.role.id,
    reason: view.reason,
    ticket: view.ticket ?? null,
    approvers,
    requestedAt: view.createdAt,
    activatedAt: view.activatedAt ?? null,
    expiresAt: view.expiresAt ?? null,
    endedAt: view.endedAt ?? null,
    status: view.status,
    endState: ended ? view.status : null,
    endedBy: view.endedBy ?? null,
    endReason: view.endReason ?? null,
    sessionCount: view.sessions.length,
    accessKeyIds: view.sessions.map((session) => session.accessKeyId),
    breakGlass: view.breakGlass,
    reviewStatus: null,
    reviewDeadline: null,
    reviewedBy: null,
    reviewedAt: null,
    reviewComment: null,
    reviewEscalations: null,
    reviewOnTime: null,
    requesterKind: view.requester.kind ?? 'person',
    onBehalfOf: view.onBehalfOf?.sub ?? null,
    onBehalfOfEmail: view.onBehalfOf?.email ?? null,
    executionArn: view.stepFunctions?.executionArn ?? null,
  };
  return view.review ? withReview(summary, view.review) : summary;
}
