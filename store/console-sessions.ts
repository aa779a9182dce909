// The web console's server-side sessions (api/console), in the audit store's database so every API
// replica sees every session. The store keeps what the console hands it: an opaque, already
// encrypted text and an expiry. Rows are keyed by a SHA-256 of the session id, so reading the table
// gives no cookie that would sign anyone in.
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AuditDatabase } from './database.js';

export interface ConsoleSessionRows {
  /** The session's data, or undefined when there is none or it has expired. */
  get(sessionId: string, now?: Date): Promise<string | undefined>;
  /** Creates or replaces the session. */
  set(sessionId: string, data: string, expiresAt: Date): Promise<void>;
  destroy(sessionId: string): Promise<void>;
  /** Deletes expired sessions; returns how many. */
  sweep(now?: Date): Promise<number>;
}

const keyOf = (sessionId: string) => createHash('sha256').update(sessionId).digest('hex');

export function consoleSessionRows(db: Kysely<AuditDatabase>): ConsoleSessionRows {
  return {
    async get(sessionId, now = new Date()) {
      const row = await db
        .selectFrom('console_sessions')
        .select(['data', 'expires_at'])
        .where('id', '=', keyOf(sessionId))
        .executeTakeFirst();
      return row && row.expires_at > now.toISOString() ? row.data : undefined;
    },
    async set(sessionId, data, expiresAt) {
      const row = {
        id: keyOf(sessionId),
        data,
        expires_at: expiresAt.toISOString(),
        updated_at: new Date().toISOString(),
      };
      await db
        .insertInto('console_sessions')
        .values(row)
        .onConflict((oc) =>
          oc.column('id').doUpdateSet({ data, expires_at: row.expires_at, updated_at: row.updated_at }),
        )
        .execute();
    },
    async destroy(sessionId) {
      await db.deleteFrom('console_sessions').where('id', '=', keyOf(sessionId)).execute();
    },
    async sweep(now = new Date()) {
      const result = await db
        .deleteFrom('console_sessions')
        .where('expires_at', '<=', now.toISOString())
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
