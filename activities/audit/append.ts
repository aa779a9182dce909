// Appending to the chain: read the head and insert the next row as one serialised step, so
// concurrent writers (threads, processes, hosts) can never fork the chain or skip a position.

import type SqliteDatabase from 'better-sqlite3';
import { type Compilable, type Kysely, sql } from 'kysely';
import type { AuditEventInput } from '../../common/audit-event.js';
import { CanonicalText, chainHash, GENESIS_HASH } from './chain.js';
import type { Connection } from './connect.js';
import { AuditEventConflictError } from './errors.js';
import { type AuditDatabase, type AuditRow, auditColumns } from './schema.js';
import { type NormalizedEvent, normalizeEvent } from './validate.js';

export interface AppendResult {
  position: number;
  hash: string;
  /** false when the event id was already recorded (a retried activity): nothing was written. */
  inserted: boolean;
}

type Head = Pick<AuditRow, 'position' | 'hash'> | undefined;

/**
 * Key of the PostgreSQL advisory lock that serialises appends (top 63 bits of
 * sha256("jit-broker audit_events append")). Advisory locks are per database, so separate
 * databases on one server never contend.
 */
const APPEND_LOCK_KEY = '2776657127272546756';

export function buildRow(event: NormalizedEvent, head: Head, recordedAt: string): AuditRow {
  const position = (head?.position ?? 0) + 1;
  const prevHash = head?.hash ?? GENESIS_HASH;
  const hash = chainHash(prevHash, {
    position,
    eventId: event.eventId,
    occurredAt: event.occurredAt,
    recordedAt,
    grantId: event.grantId,
    type: event.type,
    actor: event.actor,
    actorEmail: event.actorEmail,
    roleId: event.roleId,
    requester: event.requester,
    data: new CanonicalText(event.dataJson),
  });
  return {
    position,
    event_id: event.eventId,
    occurred_at: event.occurredAt,
    recorded_at: recordedAt,
    grant_id: event.grantId,
    type: event.type,
    actor: event.actor,
    actor_email: event.actorEmail,
    role_id: event.roleId,
    requester: event.requester,
    data: event.dataJson,
    prev_hash: prevHash,
    hash,
  };
}

/** A retry must carry the very same event; anything else under a known id is a bug worth surfacing. */
function existingResult(row: AuditRow, event: NormalizedEvent): AppendResult {
  const same =
    row.occurred_at === event.occurredAt &&
    row.grant_id === event.grantId &&
    row.type === event.type &&
    row.actor === event.actor &&
    row.actor_email === event.actorEmail &&
    row.role_id === event.roleId &&
    row.requester === event.requester &&
    row.data === event.dataJson;
  if (!same) throw new AuditEventConflictError(event.eventId);
  return { position: row.position, hash: row.hash, inserted: false };
}

const now = () => new Date().toISOString();

const byEventId = (db: Kysely<AuditDatabase>, eventId: string) =>
  db.selectFrom('audit_events').selectAll().where('event_id', '=', eventId);
const headRow = (db: Kysely<AuditDatabase>) =>
  db.selectFrom('audit_events').select(['position', 'hash']).orderBy('position', 'desc').limit(1);

export interface Appender {
  append(input: AuditEventInput): Promise<AppendResult>;
  /** Loads many fresh events quickly (tests, benchmarks, imports); fails on a known event id. */
  bulkAppend(inputs: Iterable<AuditEventInput>): Promise<number>;
}

export function createAppender(conn: Connection): Appender {
  return conn.sqlite ? sqliteAppender(conn.db, conn.sqlite) : postgresAppender(conn.db);
}

/**
 * PostgreSQL: a transaction that first takes a transaction-scoped advisory lock. Under READ
 * COMMITTED each later statement sees everything committed before the lock was granted, so
 * the head read is the true head. Position's primary key and event_id's unique key back this up.
 */
function postgresAppender(db: Kysely<AuditDatabase>): Appender {
  const locked = <T>(work: (trx: Kysely<AuditDatabase>) => Promise<T>) =>
    db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${APPEND_LOCK_KEY}::bigint)`.execute(trx);
      return work(trx);
    });
  return {
    async append(input) {
      const event = normalizeEvent(input);
      return locked(async (trx) => {
        const existing = await byEventId(trx, event.eventId).executeTakeFirst();
        if (existing) return existingResult(existing, event);
        const row = buildRow(event, await headRow(trx).executeTakeFirst(), now());
        await trx.insertInto('audit_events').values(row).execute();
        return { position: row.position, hash: row.hash, inserted: true };
      });
    },
    async bulkAppend(inputs) {
      let count = 0;
      for (const chunk of chunks(inputs, 10_000)) {
        const events = chunk.map(normalizeEvent);
        count += await locked(async (trx) => {
          let head = await headRow(trx).executeTakeFirst();
          const recordedAt = now();
          // 1,000 rows x 13 columns stays under PostgreSQL's 65,535 bind parameters.
          for (let i = 0; i < events.length; i += 1000) {
            const rows = events.slice(i, i + 1000).map((event) => {
              const row = buildRow(event, head, recordedAt);
              head = row;
              return row;
            });
            await trx.insertInto('audit_events').values(rows).execute();
          }
          return events.length;
        });
      }
      return count;
    },
  };
}

/**
 * SQLite: `BEGIN IMMEDIATE` takes the write lock before the head is read. The transaction runs
 * synchronously on the raw better-sqlite3 handle (statements still built by Kysely): an async
 * transaction would hold the file lock across awaits while another store in the same process
 * busy-waits synchronously for it, blocking the event loop that would release it.
 */
function sqliteAppender(db: Kysely<AuditDatabase>, sqlite: SqliteDatabase.Database): Appender {
  const statements = new Map<string, SqliteDatabase.Statement>();
  const prepared = (query: Compilable) => {
    const { sql: text, parameters } = query.compile();
    let stmt = statements.get(text);
    if (!stmt) {
      stmt = sqlite.prepare(text);
      statements.set(text, stmt);
    }
    return { stmt, parameters: parameters as unknown[] };
  };
  const first = <T>(query: Compilable): T | undefined => {
    const { stmt, parameters } = prepared(query);
    return stmt.get(parameters) as T | undefined;
  };
  // Compiled once from a row whose keys are in column order, so values bind in that order.
  const template = Object.fromEntries(auditColumns.map((c) => [c, null])) as unknown as AuditRow;
  const insertStmt = sqlite.prepare(db.insertInto('audit_events').values(template).compile().sql);
  const insert = (row: AuditRow) => insertStmt.run(auditColumns.map((c) => row[c]));

  const appendOne = sqlite.transaction((event: NormalizedEvent): AppendResult => {
    const existing = first<AuditRow>(byEventId(db, event.eventId));
    if (existing) return existingResult(existing, event);
    const row = buildRow(event, first<Head>(headRow(db)), now());
    insert(row);
    return { position: row.position, hash: row.hash, inserted: true };
  });
  const appendMany = sqlite.transaction((events: NormalizedEvent[]) => {
    let head = first<Head>(headRow(db));
    const recordedAt = now();
    for (const event of events) {
      const row = buildRow(event, head, recordedAt);
      insert(row);
      head = row;
    }
  });

  return {
    async append(input) {
      return appendOne.immediate(normalizeEvent(input));
    },
    async bulkAppend(inputs) {
      let count = 0;
      // One commit per chunk: the WAL stays small and other writers get a turn.
      for (const chunk of chunks(inputs, 10_000)) {
        appendMany.immediate(chunk.map(normalizeEvent));
        count += chunk.length;
        await new Promise((r) => setImmediate(r));
      }
      return count;
    },
  };
}

function* chunks<T>(items: Iterable<T>, size: number): Generator<T[]> {
  let chunk: T[] = [];
  for (const item of items) {
    chunk.push(item);
    if (chunk.length === size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}
