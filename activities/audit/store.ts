// The audit store: the one place audit rows are written (via the audit activity) and read
// (export, verify). SQLite by default, PostgreSQL for a postgres:// URL; one Kysely query layer.
import { sql } from 'kysely';
import type { AuditEventInput } from '../../common/audit-event.js';
import { type Appender, type AppendResult, createAppender } from './append.js';
import { type Connection, connect } from './connect.js';
import { exportEventText } from './export.js';
import { type AuditFilter, checkFormat, type ExportFormat, isoBound } from './filter.js';
import type { Backend } from './schema.js';
import { exportSummaryText } from './summary.js';
import { type VerifyResult, verifyChain } from './verify.js';

export type { AppendResult } from './append.js';
export type { AuditFilter, ExportFormat } from './filter.js';
export type { GrantSummary } from './summary.js';
export type { ChainProblem, VerifyResult } from './verify.js';

export interface AuditStore {
  readonly backend: Backend;
  /** Idempotent on eventId: a repeat returns the recorded row with inserted=false. */
  append(event: AuditEventInput): Promise<AppendResult>;
  /** Recomputes the whole chain, streaming; names the first broken row. */
  verify(): Promise<VerifyResult>;
  /** Matching events in chain order, as text chunks (JSON Lines, or CSV with a header). */
  exportEvents(filter: AuditFilter, format: ExportFormat): AsyncIterable<string>;
  /** One row per matching grant, as text chunks. */
  exportGrantSummaries(filter: AuditFilter, format: ExportFormat): AsyncIterable<string>;
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
    append: (event) => appender.append(event),
    verify: () => verifyChain(db),
    exportEvents(filter, format) {
      checkExport(filter, format);
      return exportEventText(db, filter, format);
    },
    exportGrantSummaries(filter, format) {
      checkExport(filter, format);
      return exportSummaryText(db, filter, format);
    },
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
