// The export filter, applied in SQL so only matching rows leave the database.
import type { SelectQueryBuilder } from 'kysely';
import { InvalidAuditFilterError } from './errors.js';
import type { AuditDatabase } from './schema.js';

export interface AuditFilter {
  /** Inclusive, on occurred_at. */
  from?: Date;
  /** Exclusive, on occurred_at. */
  to?: Date;
  requester?: string;
  roleId?: string;
  grantId?: string;
  /** Event types; absent or empty means every type. */
  types?: string[];
}

export type ExportFormat = 'jsonl' | 'csv';

// Stored timestamps are `toISOString()` text, so comparing text compares time.
export function isoBound(date: Date | undefined, name: string): string | undefined {
  if (date === undefined) return undefined;
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw new InvalidAuditFilterError(`${name} is not a valid date`);
  }
  const iso = date.toISOString();
  if (iso.length !== 24) throw new InvalidAuditFilterError(`${name} is out of range`);
  return iso;
}

export function checkFormat(format: string): asserts format is ExportFormat {
  if (format !== 'jsonl' && format !== 'csv') {
    throw new InvalidAuditFilterError(`unknown export format ${JSON.stringify(format)}`);
  }
}

type EventsQuery<O> = SelectQueryBuilder<AuditDatabase, 'audit_events', O>;

/** Narrows a query on audit_events by everything in the filter except the time range. */
export function whereAttributes<O>(query: EventsQuery<O>, filter: AuditFilter): EventsQuery<O> {
  let q = query;
  if (filter.requester !== undefined) q = q.where('requester', '=', filter.requester);
  if (filter.roleId !== undefined) q = q.where('role_id', '=', filter.roleId);
  if (filter.grantId !== undefined) q = q.where('grant_id', '=', filter.grantId);
  if (filter.types && filter.types.length > 0) q = q.where('type', 'in', filter.types);
  return q;
}

/** Narrows by every field of the filter. */
export function whereFilter<O>(query: EventsQuery<O>, filter: AuditFilter): EventsQuery<O> {
  let q = whereAttributes(query, filter);
  const from = isoBound(filter.from, 'from');
  const to = isoBound(filter.to, 'to');
  if (from !== undefined) q = q.where('occurred_at', '>=', from);
  if (to !== undefined) q = q.where('occurred_at', '<', to);
  return q;
}
