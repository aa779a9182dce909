// Opens either backend behind one Kysely instance and brings the schema up to date.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { Migrator } from 'kysely/migration';
import pg from 'pg';
import { AuditMigrationError, AuditStoreUrlError } from './errors.js';
import { type AuditDatabase, type Backend, migrationProvider, migrationTables } from './schema.js';

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
