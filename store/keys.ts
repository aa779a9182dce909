// Key canaries (see KeyCanariesTable): written on start-up by every process, read by the next one.
import type { Kysely } from 'kysely';
import type { AuditDatabase, KeyCanariesTable } from './database.js';

export type KeyCanary = KeyCanariesTable;

export interface KeyCanaries {
  list(kind: KeyCanary['kind']): Promise<KeyCanary[]>;
  /** Adds the canary if the key id is new; returns the stored one (which may differ: another key, same id). */
  claim(canary: KeyCanary): Promise<KeyCanary>;
  /** Marks a key as still written with (or signed with). */
  touch(kind: KeyCanary['kind'], keyId: string, at: string): Promise<void>;
}

export function keyCanaries(db: Kysely<AuditDatabase>): KeyCanaries {
  return {
    list: (kind) => db.selectFrom('key_canaries').selectAll().where('kind', '=', kind).execute(),
    async claim(canary) {
      await db
        .insertInto('key_canaries')
        .values(canary)
        .onConflict((oc) => oc.columns(['kind', 'key_id']).doNothing())
        .execute();
      return db
        .selectFrom('key_canaries')
        .selectAll()
        .where('kind', '=', canary.kind)
        .where('key_id', '=', canary.key_id)
        .executeTakeFirstOrThrow();
    },
    async touch(kind, keyId, at) {
      await db
        .updateTable('key_canaries')
        .set({ last_used_at: at })
        .where('kind', '=', kind)
        .where('key_id', '=', keyId)
        .execute();
    },
  };
}
