// Recomputes the chain in position order, one page at a time (constant memory), and names
// the first row where it breaks.
import type { Kysely } from 'kysely';
import { chainHash, chainRecordOf, GENESIS_HASH } from './chain.js';
import type { AuditDatabase, AuditRow } from './schema.js';

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
