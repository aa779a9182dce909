// Opens either backend behind one Kysely instance and brings the schema up to date.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import { type Migration, type MigrationProvider, Migrator } from 'kysely/migration';
import pg from 'pg';
import { AuditMigrationError, AuditStoreUrlError } from './errors.js';
import { foldTrail, replaceStatements } from './read-model.js';

export interface Connection {
  backend: Backend;
  db: Kysely<AuditDatabase>;
  /** SQLite only: the raw handle, for the synchronous write transactions (see append.ts). */
  sqlite?: SqliteDatabase.Database;
}

export type StoreLocation = { backend: 'postgres'; url: string } | { backend: 'sqlite'; file: string };

/** `postgres://` / `postgresql://` URL, `sqlite:<path>` / `sqlite://<path>`, or a bare file path. */
export function parseStoreUrl(url: string): StoreLocation {
  const trimmed = url.trim();
  if (/^postgres(ql)?:\/\//i.test(trimmed)) return { backend: 'postgres', url: trimmed };
  let file = trimmed;
  if (/^sqlite:/i.test(file)) file = file.slice('sqlite:'.length).replace(/^\/\//, '');
  else if (/^[a-z][\w+.-]*:\/\//i.test(file)) {
    throw new AuditStoreUrlError(`unsupported audit store URL scheme in ${JSON.stringify(redact(url))}`);
  }
  if (!file) throw new AuditStoreUrlError('audit store URL names no SQLite file');
  return { backend: 'sqlite', file };
}

/** Hides a password in a URL before it goes into an error message. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}

// int8 (bigint, count(*)) as a JS number: positions stay far below 2^53. Per pool, not global.
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format ?? 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

export async function connect(url: string): Promise<Connection> {
  const location = parseStoreUrl(url);
  const conn = location.backend === 'postgres' ? openPostgres(location.url) : openSqlite(location.file);
  try {
    await migrate(conn);
  } catch (err) {
    await conn.db.destroy().catch(() => {});
    throw err;
  }
  return conn;
}

function openPostgres(url: string): Connection {
  const pool = new pg.Pool({ connectionString: url, max: 10, types, application_name: 'jit-broker-audit' });
  // An idle client losing its server must not crash the process; the next query fails and is retried.
  pool.on('error', () => {});
  return { backend: 'postgres', db: new Kysely<AuditDatabase>({ dialect: new PostgresDialect({ pool }) }) };
}

function openSqlite(file: string): Connection {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const sqlite = new SqliteDatabase(file);
  // busy_timeout first: switching to WAL needs a lock another process may briefly hold.
  sqlite.pragma('busy_timeout = 10000');
  sqlite.pragma('journal_mode = WAL');
  // FULL: an event the activity reported as written survives a power cut, not just a crash.
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  return {
    backend: 'sqlite',
    db: new Kysely<AuditDatabase>({ dialect: new SqliteDialect({ database: sqlite }) }),
    sqlite,
  };
}

/**
 * Idempotent. PostgreSQL: Kysely serialises migrators with an advisory lock. SQLite: Kysely runs
 * them without a transaction, so two processes on a fresh file can collide; the DDL is
 * `if not exists` and a collision (busy, duplicate migration row) is retried, after which the
 * loser finds the work done.
 */
async function migrate({ db, backend }: Connection): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider(backend), ...migrationTables });
  for (let attempt = 1; ; attempt++) {
    const { error } = await migrator.migrateToLatest();
    if (!error) return;
    if (attempt >= 5) {
      const message = error instanceof Error ? error.message : String(error);
      throw new AuditMigrationError(`audit store migrations failed: ${message}`, { cause: error });
    }
    await new Promise((r) => setTimeout(r, 50 * attempt + Math.random() * 100));
  }
}

export type Backend = 'sqlite' | 'postgres';

export interface AuditEventsTable {
  /** 1, 2, 3, ...: the chain order; assigned under the append lock, never reused. */
  position: number;
  event_id: string;
  /** ISO 8601 UTC with milliseconds (`toISOString()`), so text order is time order. */
  occurred_at: string;
  recorded_at: string;
  grant_id: string;
  type: string;
  actor: string;
  actor_email: string | null;
  role_id: string;
  requester: string;
  /** Canonical JSON text: byte-for-byte what was hashed. */
  data: string;
  prev_hash: string;
  hash: string;
}

/**
 * The grants read model: one row per grant, folded from its audit events by
 * common/grant-projection.ts in the transaction that appends them (append.ts).
 */
export interface GrantsTable {
  id: string;
  status: string;
  role_id: string;
  role_arn: string | null;
  requester_sub: string;
  requester_email: string | null;
  requester_kind: string;
  break_glass: number;
  duration_seconds: number;
  reason: string;
  ticket: string | null;
  required_approvals: number;
  approval_count: number;
  created_at: string;
  activated_at: string | null;
  expires_at: string | null;
  ended_at: string | null;
  end_reason: string | null;
  ended_by: string | null;
  /** What waits for a review: `request`, `extension@<requestedAt>`, or null. */
  awaiting: string | null;
  /** Digest of the request body, for Idempotency-Key retries after the grant ended. */
  request_digest: string | null;
  /** Position of the last audit event folded in. */
  last_position: number;
  /** The whole grant view, JSON. */
  view: string;
}

/** Approvals of what currently waits (`target` as in grants.awaiting) and of the request. */
export interface GrantApprovalsTable {
  grant_id: string;
  target: string;
  approver_sub: string;
  approver_email: string | null;
  at: string;
  comment: string | null;
}

/** STS sessions issued for a grant: auditors find a grant by the AccessKeyId CloudTrail shows. */
export interface GrantSessionsTable {
  grant_id: string;
  session_name: string;
  access_key_id: string;
  source_identity: string | null;
  issued_at: string | null;
  expires_at: string;
}

/**
 * Key canaries: every process that encrypts payloads leaves one ciphertext per key it writes with,
 * and every front door its signing key's public half, so a process whose keys cannot read what
 * the others write (or verify what they sign) refuses to start (platform/key-check.ts).
 */
export interface KeyCanariesTable {
  kind: 'payload' | 'assertion';
  key_id: string;
  /** payload: a ciphertext of a fixed text; assertion: the public key, base64. */
  material: string;
  last_used_at: string;
}

/** The web console's sessions (store/console-sessions.ts): opaque, encrypted by the console. */
export interface ConsoleSessionsTable {
  /** SHA-256 (hex) of the session id the cookie carries. */
  id: string;
  data: string;
  expires_at: string;
  updated_at: string;
}

export interface AuditDatabase {
  audit_events: AuditEventsTable;
  console_sessions: ConsoleSessionsTable;
  key_canaries: KeyCanariesTable;
  grants: GrantsTable;
  grant_approvals: GrantApprovalsTable;
  grant_sessions: GrantSessionsTable;
}

export type AuditRow = AuditEventsTable;

export const auditColumns = [
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
] as const satisfies readonly (keyof AuditEventsTable)[];

// Own names, so another Kysely user of the same database keeps its own migration history.
export const migrationTables = {
  migrationTableName: 'audit_migration',
  migrationLockTableName: 'audit_migration_lock',
};

function createAuditEvents(backend: Backend): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // SQLite: exactly `integer primary key` makes position the rowid (no second index).
      const positionType = backend === 'sqlite' ? 'integer' : 'bigint';
      const hex64 = (col: string) => sql`length(${sql.ref(col)}) = 64`;
      // `if not exists` everywhere: on SQLite, Kysely runs migrations outside a transaction,
      // so two processes opening a fresh file may both get here (see migrate() in connect.ts).
      await db.schema
        .createTable('audit_events')
        .ifNotExists()
        .addColumn('position', positionType, (c) => c.primaryKey().check(sql`position > 0`))
        .addColumn('event_id', 'text', (c) => c.notNull().unique())
        .addColumn('occurred_at', 'text', (c) => c.notNull())
        .addColumn('recorded_at', 'text', (c) => c.notNull())
        .addColumn('grant_id', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('actor_email', 'text')
        .addColumn('role_id', 'text', (c) => c.notNull())
        .addColumn('requester', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('prev_hash', 'text', (c) => c.notNull().check(hex64('prev_hash')))
        .addColumn('hash', 'text', (c) => c.notNull().check(hex64('hash')))
        .execute();
      // Export filters; (column, position) lets a filtered keyset page read the index in order.
      await db.schema
        .createIndex('audit_events_occurred_at')
        .ifNotExists()
        .on('audit_events')
        .column('occurred_at')
        .execute();
      for (const col of ['grant_id', 'requester', 'role_id', 'type']) {
        await db.schema
          .createIndex(`audit_events_${col}`)
          .ifNotExists()
          .on('audit_events')
          .columns([col, 'position'])
          .execute();
      }
      await appendOnlyTriggers(db, backend);
    },
  };
}

/**
 * The application never updates or deletes; the database refuses it too, so tampering takes a
 * deliberate schema change (and `verify` still catches the result). Not a security boundary
 * against the table owner: in production also grant the app role INSERT and SELECT only.
 */
async function appendOnlyTriggers(db: Kysely<unknown>, backend: Backend): Promise<void> {
  if (backend === 'sqlite') {
    for (const op of ['update', 'delete']) {
      await sql
        .raw(
          `create trigger if not exists audit_events_no_${op} before ${op} on audit_events
           begin select raise(abort, 'audit_events is append-only'); end`,
        )
        .execute(db);
    }
    return;
  }
  await sql`
    create or replace function audit_events_append_only() returns trigger language plpgsql as $$
    begin raise exception 'audit_events is append-only'; end $$`.execute(db);
  await sql`drop trigger if exists audit_events_no_change on audit_events`.execute(db);
  await sql`create trigger audit_events_no_change before update or delete on audit_events
    for each row execute function audit_events_append_only()`.execute(db);
  await sql`drop trigger if exists audit_events_no_truncate on audit_events`.execute(db);
  await sql`create trigger audit_events_no_truncate before truncate on audit_events
    for each statement execute function audit_events_append_only()`.execute(db);
}

function createGrantsReadModel(backend: Backend): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const position = backend === 'sqlite' ? 'integer' : 'bigint';
      await db.schema
        .createTable('grants')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('role_id', 'text', (c) => c.notNull())
        .addColumn('role_arn', 'text')
        .addColumn('requester_sub', 'text', (c) => c.notNull())
        .addColumn('requester_email', 'text')
        .addColumn('requester_kind', 'text', (c) => c.notNull())
        .addColumn('break_glass', 'integer', (c) => c.notNull())
        .addColumn('duration_seconds', 'integer', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('ticket', 'text')
        .addColumn('required_approvals', 'integer', (c) => c.notNull())
        .addColumn('approval_count', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('activated_at', 'text')
        .addColumn('expires_at', 'text')
        .addColumn('ended_at', 'text')
        .addColumn('end_reason', 'text')
        .addColumn('ended_by', 'text')
        .addColumn('awaiting', 'text')
        .addColumn('request_digest', 'text')
        .addColumn('last_position', position, (c) => c.notNull())
        .addColumn('view', 'text', (c) => c.notNull())
        .execute();
      // Lists are newest first, keyset-paged on (created_at, id), narrowed by one of these.
      const indexes: [string, string[]][] = [
        ['grants_created', ['created_at', 'id']],
        ['grants_status', ['status', 'created_at', 'id']],
        ['grants_requester', ['requester_sub', 'created_at', 'id']],
        ['grants_role', ['role_id', 'created_at', 'id']],
        ['grants_awaiting', ['awaiting', 'role_id']],
      ];
      for (const [name, columns] of indexes) {
        await db.schema.createIndex(name).ifNotExists().on('grants').columns(columns).execute();
      }
      await db.schema
        .createTable('grant_approvals')
        .ifNotExists()
        .addColumn('grant_id', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('approver_sub', 'text', (c) => c.notNull())
        .addColumn('approver_email', 'text')
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('comment', 'text')
        .addPrimaryKeyConstraint('grant_approvals_pk', ['grant_id', 'target', 'approver_sub'])
        .execute();
      await db.schema
        .createTable('grant_sessions')
        .ifNotExists()
        .addColumn('grant_id', 'text', (c) => c.notNull())
        .addColumn('session_name', 'text', (c) => c.notNull())
        .addColumn('access_key_id', 'text', (c) => c.notNull())
        .addColumn('source_identity', 'text')
        .addColumn('issued_at', 'text')
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('grant_sessions_pk', ['grant_id', 'session_name'])
        .execute();
      await db.schema
        .createIndex('grant_sessions_access_key')
        .ifNotExists()
        .on('grant_sessions')
        .column('access_key_id')
        .execute();
      // A store that already has a trail gets its read model folded from it.
      const typed = db as unknown as Kysely<AuditDatabase>;
      const grants = await foldTrail(typed);
      for (const statement of replaceStatements(typed, grants.values()))
        await typed.executeQuery(statement.compile());
    },
  };
}

const createKeyCanaries: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('key_canaries')
      .ifNotExists()
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('key_id', 'text', (c) => c.notNull())
      .addColumn('material', 'text', (c) => c.notNull())
      .addColumn('last_used_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('key_canaries_pk', ['kind', 'key_id'])
      .execute();
  },
};

const createConsoleSessions: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('console_sessions')
      .ifNotExists()
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('data', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('console_sessions_expires_at')
      .ifNotExists()
      .on('console_sessions')
      .column('expires_at')
      .execute();
  },
};

export function migrationProvider(backend: Backend): MigrationProvider {
  return {
    getMigrations: async () => ({
      '0001_audit_events': createAuditEvents(backend),
      '0002_grants_read_model': createGrantsReadModel(backend),
      '0003_key_canaries': createKeyCanaries,
      '0004_console_sessions': createConsoleSessions,
    }),
  };
}
