// The hash chain: each row's hash covers the previous row's hash and the canonical JSON of
// the row itself, so editing, deleting or reordering any row breaks every later link.
import { hash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { CanonicalText, canonicalJson } from '../common/canonical-json.js';
import type { AuditDatabase, AuditEventsTable, AuditRow } from './database.js';

export { CanonicalJsonError, CanonicalText, canonicalJson } from '../common/canonical-json.js';

/** prev_hash of the first row. */
export const GENESIS_HASH = '0'.repeat(64);

/** One-shot crypto.hash: measurably cheaper per row than createHash for a million rows. */
export function sha256hex(text: string): string {
  return hash('sha256', text, 'hex');
}

/** Everything a row's hash covers: the event, plus where and when the store put it. */
export interface ChainRecord {
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
}

export function chainHash(prevHash: string, record: ChainRecord): string {
  return sha256hex(prevHash + canonicalJson(record));
}

/** The fields of a stored row that its hash covers (`data` as its stored canonical text). */
export function chainRecordOf(row: Omit<AuditEventsTable, 'prev_hash' | 'hash'>): ChainRecord {
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
    data: new CanonicalText(row.data),
  };
}

export type ChainProblem = 'hash_mismatch' | 'prev_hash_mismatch' | 'position_gap';

export interface VerifyResult {
  ok: boolean;
  rowsChecked: number;
  firstBroken?: { position: number; eventId: string; problem: ChainProblem };
  /**
   * The last row checked when the chain is intact. A chain proves its own past but not its
   * length: record this head elsewhere (a ticket, a signed log) to detect a truncated tail.
   */
  head?: { position: number; hash: string };
}

export const VERIFY_PAGE_SIZE = 1000;

function problemOf(row: AuditRow, expectedPosition: number, prevHash: string): ChainProblem | undefined {
  // A missing row shows as a gap; a renumbered or moved row as a broken link; an edit as a bad hash.
  if (row.position !== expectedPosition) return 'position_gap';
  if (row.prev_hash !== prevHash) return 'prev_hash_mismatch';
  return chainHash(row.prev_hash, chainRecordOf(row)) === row.hash ? undefined : 'hash_mismatch';
}

export async function verifyChain(
  db: Kysely<AuditDatabase>,
  pageSize = VERIFY_PAGE_SIZE,
): Promise<VerifyResult> {
  let prevHash = GENESIS_HASH;
  let expectedPosition = 1;
  let rowsChecked = 0;
  for (;;) {
    // The first page has no lower bound, so a row smuggled in below position 1 is a gap too.
    let page = db.selectFrom('audit_events').selectAll();
    if (rowsChecked > 0) page = page.where('position', '>=', expectedPosition);
    const rows = await page.orderBy('position').limit(pageSize).execute();
    for (const row of rows) {
      rowsChecked += 1;
      const problem = problemOf(row, expectedPosition, prevHash);
      if (problem) {
        return {
          ok: false,
          rowsChecked,
          firstBroken: { position: row.position, eventId: row.event_id, problem },
        };
      }
      prevHash = row.hash;
      expectedPosition += 1;
    }
    if (rows.length < pageSize) break;
  }
  const head = rowsChecked > 0 ? { position: expectedPosition - 1, hash: prevHash } : undefined;
  return { ok: true, rowsChecked, ...(head ? { head } : {}) };
}
