// Table shape and in-code migrations; the same Kysely statements build both backends, with
// the few dialect differences (rowid alias, trigger syntax) spelled out here.
import { type Kysely, sql } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely/migration';

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

export interface AuditDatabase {
  audit_events: AuditEventsTable;
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

export function migrationProvider(backend: Backend): MigrationProvider {
  return { getMigrations: async () => ({ '0001_audit_events': createAuditEvents(backend) }) };
}
