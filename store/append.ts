// Appending to the chain: an event is checked against the contract and put in the one form that is
// stored and hashed (UTC timestamps, canonical data); reading the head and inserting the next row is
// one serialised step, so concurrent writers (threads, processes, hosts) never fork the chain, and
// the grants read model is updated in the same transaction.

import type SqliteDatabase from 'better-sqlite3';
import { type Compilable, type Kysely, sql } from 'kysely';
import { z } from 'zod';
import { type AuditEventInput, type AuditEventType, auditEventTypes } from '../common/audit-event.js';
import type { GrantView } from '../common/grant.js';
import { CanonicalJsonError, CanonicalText, canonicalJson, chainHash, GENESIS_HASH } from './chain.js';
import { type AuditDatabase, type AuditRow, auditColumns, type Connection } from './database.js';
import { AuditEventConflictError, InvalidAuditEventError, SecretInAuditDataError } from './errors.js';
import {
  foldBatch,
  grantEventsAfter,
  replaceStatements,
  selectStoredGrant,
  TrailFold,
  writeStatements,
} from './read-model.js';

/** Caps a single row so one bad event cannot bloat every export. */
export const MAX_DATA_CHARS = 256 * 1024;

const id = z.string().min(1).max(256);
const eventSchema = z.strictObject({
  eventId: id,
  occurredAt: z.iso.datetime({ offset: true }),
  grantId: id,
  type: z.enum(auditEventTypes),
  actor: id,
  actorEmail: z.string().max(320).optional(),
  roleId: z.string().max(256),
  requester: z.string().max(256),
  data: z.record(z.string(), z.unknown()),
});

/** The event as stored and hashed. */
export interface NormalizedEvent {
  eventId: string;
  occurredAt: string;
  grantId: string;
  type: AuditEventType;
  actor: string;
  actorEmail: string | null;
  roleId: string;
  requester: string;
  /** Canonical JSON of `data`. */
  dataJson: string;
}

// Normalised (lower case, letters and digits only) key shapes that name secret material.
const secretKey = (normalized: string) =>
  normalized.endsWith('token') ||
  normalized.endsWith('secret') ||
  normalized.includes('secretaccesskey') ||
  normalized.includes('password') ||
  normalized.includes('passwd') ||
  normalized.includes('privatekey');

/** Defence in depth for invariant 4: the workflow should never hand secrets over; refuse if it does. */
export function findSecretKey(value: unknown, path = 'data'): string | undefined {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = findSecretKey(item, `${path}[${i}]`);
      if (found) return found;
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (secretKey(key.toLowerCase().replace(/[^a-z0-9]/g, ''))) return `${path}.${key}`;
      const found = findSecretKey(item, `${path}.${key}`);
      if (found) return found;
    }
  }
  return undefined;
}

export function normalizeEvent(input: AuditEventInput): NormalizedEvent {
  const parsed = eventSchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'event'}: ${i.message}`);
    throw new InvalidAuditEventError(`invalid audit event: ${issues.join('; ')}`);
  }
  const event = parsed.data;
  const secret = findSecretKey(event.data);
  if (secret) throw new SecretInAuditDataError(secret);

  const occurredAt = new Date(event.occurredAt).toISOString();
  if (occurredAt.length !== 24) throw new InvalidAuditEventError('occurredAt: year out of range');
  let dataJson: string;
  try {
    dataJson = canonicalJson(event.data);
  } catch (err) {
    if (err instanceof CanonicalJsonError)
      throw new InvalidAuditEventError(`invalid audit event: ${err.message}`);
    throw err;
  }
  if (dataJson.length > MAX_DATA_CHARS) {
    throw new InvalidAuditEventError(`data is ${dataJson.length} characters; the limit is ${MAX_DATA_CHARS}`);
  }
  return {
    eventId: event.eventId,
    occurredAt,
    grantId: event.grantId,
    type: event.type,
    actor: event.actor,
    actorEmail: event.actorEmail ?? null,
    roleId: event.roleId,
    requester: event.requester,
    dataJson,
  };
}

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
  /**
   * Appends events in order (each idempotent on its event id) and folds them into the grants read
   * model, all in one transaction: the read model never disagrees with the trail.
   */
  appendBatch(inputs: readonly AuditEventInput[]): Promise<AppendResult[]>;
  /** Loads many fresh events quickly (tests, benchmarks, imports); fails on a known event id. */
  bulkAppend(inputs: Iterable<AuditEventInput>): Promise<number>;
  /** Replaces the read model by a fold of the whole trail, holding the append lock; returns the grant count. */
  rebuildReadModel(): Promise<number>;
}

export function createAppender(conn: Connection): Appender {
  return conn.sqlite ? sqliteAppender(conn.db, conn.sqlite) : postgresAppender(conn.db);
}

const storedGrant = (row: { view: string; request_digest: string | null } | undefined) =>
  row ? { view: JSON.parse(row.view) as GrantView, requestDigest: row.request_digest } : undefined;

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
  const foldInto = async (trx: Kysely<AuditDatabase>, rows: AuditRow[]) => {
    const ids = [...new Set(rows.filter((r) => r.type.startsWith('grant.')).map((r) => r.grant_id))];
    const stored = new Map<string, { view: string; request_digest: string | null }>();
    for (let i = 0; i < ids.length; i += 1000) {
      const found = await trx
        .selectFrom('grants')
        .select(['id', 'view', 'request_digest'])
        .where('id', 'in', ids.slice(i, i + 1000))
        .execute();
      for (const row of found) stored.set(row.id, row);
    }
    for (const grant of foldBatch(rows, (id) => storedGrant(stored.get(id)))) {
      for (const statement of writeStatements(trx, grant)) await trx.executeQuery(statement.compile());
    }
  };
  return {
    async appendBatch(inputs) {
      const events = inputs.map(normalizeEvent);
      return locked(async (trx) => {
        const results: AppendResult[] = [];
        const inserted: AuditRow[] = [];
        let head = await headRow(trx).executeTakeFirst();
        const recordedAt = now();
        for (const event of events) {
          const existing = await byEventId(trx, event.eventId).executeTakeFirst();
          if (existing) {
            results.push(existingResult(existing, event));
            continue;
          }
          const row = buildRow(event, head, recordedAt);
          await trx.insertInto('audit_events').values(row).execute();
          head = row;
          inserted.push(row);
          results.push({ position: row.position, hash: row.hash, inserted: true });
        }
        await foldInto(trx, inserted);
        return results;
      });
    },
    async bulkAppend(inputs) {
      let count = 0;
      for (const chunk of chunks(inputs, 10_000)) {
        const events = chunk.map(normalizeEvent);
        count += await locked(async (trx) => {
          let head = await headRow(trx).executeTakeFirst();
          const recordedAt = now();
          const all: AuditRow[] = [];
          // 1,000 rows x 13 columns stays under PostgreSQL's 65,535 bind parameters.
          for (let i = 0; i < events.length; i += 1000) {
            const rows = events.slice(i, i + 1000).map((event) => {
              const row = buildRow(event, head, recordedAt);
              head = row;
              return row;
            });
            await trx.insertInto('audit_events').values(rows).execute();
            all.push(...rows);
          }
          await foldInto(trx, all);
          return events.length;
        });
      }
      return count;
    },
    rebuildReadModel: () =>
      locked(async (trx) => {
        const fold = new TrailFold();
        let after = 0;
        for (;;) {
          const rows = await grantEventsAfter(trx, after, 5000).execute();
          for (const row of rows) fold.add(row);
          const last = rows.at(-1);
          if (!last) break;
          after = last.position;
        }
        const grants = fold.result();
        for (const statement of replaceStatements(trx, grants.values()))
          await trx.executeQuery(statement.compile());
        return grants.size;
      }),
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
  const run = (query: Compilable) => {
    const { stmt, parameters } = prepared(query);
    stmt.run(parameters);
  };
  // Compiled once from a row whose keys are in column order, so values bind in that order.
  const template = Object.fromEntries(auditColumns.map((c) => [c, null])) as unknown as AuditRow;
  const insertStmt = sqlite.prepare(db.insertInto('audit_events').values(template).compile().sql);
  const insert = (row: AuditRow) => insertStmt.run(auditColumns.map((c) => row[c]));
  const foldInto = (rows: AuditRow[]) => {
    const load = (id: string) =>
      storedGrant(first<{ view: string; request_digest: string | null }>(selectStoredGrant(db, id)));
    for (const grant of foldBatch(rows, load))
      for (const statement of writeStatements(db, grant)) run(statement);
  };

  const appendBatchTx = sqlite.transaction((events: NormalizedEvent[]): AppendResult[] => {
    const results: AppendResult[] = [];
    const inserted: AuditRow[] = [];
    let head = first<Head>(headRow(db));
    const recordedAt = now();
    for (const event of events) {
      const existing = first<AuditRow>(byEventId(db, event.eventId));
      if (existing) {
        results.push(existingResult(existing, event));
        continue;
      }
      const row = buildRow(event, head, recordedAt);
      insert(row);
      head = row;
      inserted.push(row);
      results.push({ position: row.position, hash: row.hash, inserted: true });
    }
    foldInto(inserted);
    return results;
  });
  const appendMany = sqlite.transaction((events: NormalizedEvent[]) => {
    let head = first<Head>(headRow(db));
    const recordedAt = now();
    const rows: AuditRow[] = [];
    for (const event of events) {
      const row = buildRow(event, head, recordedAt);
      insert(row);
      head = row;
      rows.push(row);
    }
    foldInto(rows);
  });

  const rebuildTx = sqlite.transaction((): number => {
    const fold = new TrailFold();
    const { stmt, parameters } = prepared(grantEventsAfter(db, 0, Number.MAX_SAFE_INTEGER));
    for (const row of stmt.iterate(parameters)) fold.add(row as AuditRow);
    const grants = fold.result();
    for (const statement of replaceStatements(db, grants.values())) run(statement);
    return grants.size;
  });

  return {
    async appendBatch(inputs) {
      return appendBatchTx.immediate(inputs.map(normalizeEvent));
    },
    async rebuildReadModel() {
      return rebuildTx.immediate();
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
