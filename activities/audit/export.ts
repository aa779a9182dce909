// Event export: keyset pages on position (never OFFSET, never everything at once), each page
// rendered to one text chunk, so memory stays flat however long the range is.
import type { Kysely } from 'kysely';
import { csvRow } from './csv.js';
import { type AuditFilter, checkFormat, type ExportFormat, whereFilter } from './filter.js';
import { type AuditDatabase, type AuditRow, auditColumns } from './schema.js';

export const EXPORT_PAGE_SIZE = 1000;

/** Matching rows in chain order, one page at a time. */
export async function* eventPages(
  db: Kysely<AuditDatabase>,
  filter: AuditFilter,
  pageSize = EXPORT_PAGE_SIZE,
): AsyncGenerator<AuditRow[]> {
  let after = 0;
  for (;;) {
    const rows = await whereFilter(db.selectFrom('audit_events').selectAll(), filter)
      .where('position', '>', after)
      .orderBy('position')
      .limit(pageSize)
      .execute();
    if (rows.length > 0) yield rows;
    const last = rows.at(-1);
    if (!last || rows.length < pageSize) return;
    after = last.position;
  }
}

/**
 * One JSON object per line, keys as in the event contract (`AuditEventInput`) plus the store's
 * position, recordedAt, prevHash and hash: enough to recompute the chain from the export alone.
 */
export function jsonlLine(row: AuditRow): string {
  return `${JSON.stringify({
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
    data: parseData(row.data),
    prevHash: row.prev_hash,
    hash: row.hash,
  })}\n`;
}

/** A tampered row whose data no longer parses is exported as its text; verify names it. */
function parseData(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function csvLine(row: AuditRow): string {
  return csvRow(auditColumns.map((col) => row[col]));
}

export async function* exportEventText(
  db: Kysely<AuditDatabase>,
  filter: AuditFilter,
  format: ExportFormat,
): AsyncGenerator<string> {
  checkFormat(format);
  if (format === 'csv') yield csvRow(auditColumns);
  const line = format === 'csv' ? csvLine : jsonlLine;
  for await (const rows of eventPages(db, filter)) {
    let chunk = '';
    for (const row of rows) chunk += line(row);
    yield chunk;
  }
}
