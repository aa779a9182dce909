// The audit store: the hash-chained audit trail and the grants read model folded from it, in one
// database. Written only by the audit activity; read by the API, the console, the CLI's server
// side and the reconciler. SQLite by default, PostgreSQL for a postgres:// URL; one Kysely layer.
import { sql } from 'kysely';
import type { AuditEventInput } from '../common/audit-event.js';
import type { GrantView } from '../common/grant.js';
import { type Appender, type AppendResult, createAppender } from './append.js';
import { type VerifyResult, verifyChain } from './chain.js';
import { type ConsoleSessionRows, consoleSessionRows } from './console-sessions.js';
import { type AuditRow, type Backend, type Connection, connect } from './database.js';
import {
  type AuditFilter,
  checkFormat,
  type EventPage,
  type ExportFormat,
  exportEventText,
  exportSummaryText,
  isoBound,
  searchEvents,
} from './export.js';
import { type KeyCanaries, keyCanaries } from './keys.js';
import {
  checkReadModel,
  countByStatus,
  type GrantListFilter,
  type GrantPage,
  getGrant,
  getGrantWithDigest,
  grantEvents,
  grantHasEnded,
  lastChange,
  listGrants,
  listGrantViews,
  openGrantIds,
  type ReadModelDifference,
} from './read-model.js';

export type { AppendResult } from './append.js';
export type { ChainProblem, VerifyResult } from './chain.js';
export type { ConsoleSessionRows } from './console-sessions.js';
export type { AuditRow } from './database.js';
export type { AuditEventRecord, AuditFilter, EventPage, ExportFormat, GrantSummary } from './export.js';
export { summaryHeader, summaryLine, summaryOfView } from './export.js';
export type { KeyCanaries, KeyCanary } from './keys.js';
export type { GrantListFilter, GrantPage, ReadModelDifference } from './read-model.js';
export { decodeCursor } from './read-model.js';

/** The grants read model. */
export interface GrantReads {
  get(id: string): Promise<GrantView | undefined>;
  /** With the digest of the request that started it, for Idempotency-Key retries. */
  getWithDigest(id: string): Promise<{ view: GrantView; requestDigest: string | null } | undefined>;
  list(
    filter: GrantListFilter,
    limit: number,
    cursor?: { createdAt: string; id: string },
  ): Promise<GrantPage>;
  /** `list` with whole views (sessions, timeline). */
  listViews(
    filter: GrantListFilter,
    limit: number,
    cursor?: { createdAt: string; id: string },
  ): Promise<GrantPage<GrantView>>;
  hasEnded(id: string): Promise<boolean>;
  countByStatus(): Promise<Record<string, number>>;
  /** The grant's audit events, in chain order. */
  events(id: string): Promise<AuditRow[]>;
  /** Ids of grants not ended, in id order after `after`. */
  openIds(limit: number, after?: string): Promise<string[]>;
  /** Grows whenever this grant (or, without an id, anything) changes; for live pages. */
  lastChange(id?: string): Promise<number>;
}

export interface AuditStore {
  readonly backend: Backend;
  /** Idempotent on eventId: a repeat returns the recorded row with inserted=false. */
  append(event: AuditEventInput): Promise<AppendResult>;
  /** Appends in order and folds into the read model, in one transaction. */
  appendBatch(events: readonly AuditEventInput[]): Promise<AppendResult[]>;
  readonly grants: GrantReads;
  readonly keys: KeyCanaries;
  /** Differences between the read model and a fold of the trail (empty when they agree). */
  checkReadModel(): Promise<ReadModelDifference[]>;
  /** Rebuilds the read model from the trail; returns the number of grants. */
  rebuildReadModel(): Promise<number>;
  /** Recomputes the whole chain, streaming; names the first broken row. */
  verify(): Promise<VerifyResult>;
  /** Matching events in chain order, as text chunks (JSON Lines, or CSV with a header). */
  exportEvents(filter: AuditFilter, format: ExportFormat): AsyncIterable<string>;
  /** One row per matching grant, as text chunks. */
  exportGrantSummaries(filter: AuditFilter, format: ExportFormat): AsyncIterable<string>;
  /** Matching events, newest first, a page before a position: the console's event search. */
  searchEvents(filter: AuditFilter, limit: number, before?: number): Promise<EventPage>;
  /** The web console's sessions. */
  readonly consoleSessions: ConsoleSessionRows;
  /** Readiness: resolves when the database answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

interface Internals {
  conn: Connection;
  appender: Appender;
}

const internals = new WeakMap<AuditStore, Internals>();

/** Checks what can be checked before the first chunk, so a bad request fails at the call. */
function checkExport(filter: AuditFilter, format: ExportFormat): void {
  checkFormat(format);
  isoBound(filter.from, 'from');
  isoBound(filter.to, 'to');
}

/** `url`: `postgres://…` / `postgresql://…`, `sqlite:<path>`, or a file path. Migrates on open. */
export async function openAuditStore(url: string): Promise<AuditStore> {
  const conn = await connect(url);
  const { db } = conn;
  const appender = createAppender(conn);
  const store: AuditStore = {
    backend: conn.backend,
    append: async (event) => (await appender.appendBatch([event]))[0] as AppendResult,
    appendBatch: (events) => appender.appendBatch(events),
    grants: {
      get: (id) => getGrant(db, id),
      getWithDigest: (id) => getGrantWithDigest(db, id),
      list: (filter, limit, cursor) => listGrants(db, filter, limit, cursor),
      listViews: (filter, limit, cursor) => listGrantViews(db, filter, limit, cursor),
      hasEnded: (id) => grantHasEnded(db, id),
      countByStatus: () => countByStatus(db),
      events: (id) => grantEvents(db, id),
      openIds: (limit, after) => openGrantIds(db, limit, after),
      lastChange: (id) => lastChange(db, id),
    },
    keys: keyCanaries(db),
    checkReadModel: () => checkReadModel(db),
    rebuildReadModel: () => appender.rebuildReadModel(),
    verify: () => verifyChain(db),
    exportEvents(filter, format) {
      checkExport(filter, format);
      return exportEventText(db, filter, format);
    },
    exportGrantSummaries(filter, format) {
      checkExport(filter, format);
      return exportSummaryText(db, filter, format);
    },
    searchEvents(filter, limit, before) {
      checkExport(filter, 'jsonl');
      return searchEvents(db, filter, limit, before);
    },
    consoleSessions: consoleSessionRows(db),
    async ping() {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
  internals.set(store, { conn, appender });
  return store;
}

function internalsOf(store: AuditStore): Internals {
  const found = internals.get(store);
  if (!found) throw new TypeError('not a store returned by openAuditStore');
  return found;
}

/**
 * Appends many fresh events fast (tests, benchmarks, imports): same validation and chain as
 * `append`, committed in chunks of 10,000 under the same lock. Not idempotent: a known event id
 * fails its chunk. Pass a generator to keep memory flat.
 */
export function bulkAppend(store: AuditStore, events: Iterable<AuditEventInput>): Promise<number> {
  return internalsOf(store).appender.bulkAppend(events);
}

/** Raw SQL access for tests that tamper with rows on purpose; nothing else should use it. */
export function rawConnectionForTests(store: AuditStore): Connection {
  return internalsOf(store).conn;
}
