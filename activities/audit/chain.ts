// The hash chain: each row's hash covers the previous row's hash and the canonical JSON of
// the row itself, so editing, deleting or reordering any row breaks every later link.
import { hash } from 'node:crypto';
import type { AuditEventsTable } from './schema.js';

/** prev_hash of the first row. */
export const GENESIS_HASH = '0'.repeat(64);

export class CanonicalJsonError extends TypeError {
  override name = 'CanonicalJsonError';
  readonly code = 'canonical_json_unsupported';
}

/**
 * JSON with object keys sorted recursively (UTF-16 code unit order, as RFC 8785) and no
 * whitespace: the same value always yields the same text, whatever order keys were built in.
 * Refuses what JSON cannot carry faithfully (NaN, Infinity, bigint, functions, cycles).
 */
export function canonicalJson(value: unknown): string {
  return encode(value, new Set(), '$');
}

/**
 * Text already in canonical JSON (a stored row's `data`), emitted verbatim so hashing a row
 * needs no parse and re-encode. Stored text that is not canonical then fails verification.
 */
export class CanonicalText {
  constructor(readonly text: string) {}
}

function encode(value: unknown, ancestors: Set<object>, path: string): string {
  if (value === null) return 'null';
  if (value instanceof CanonicalText) return value.text;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(`${path} is not a finite number`);
      return JSON.stringify(value);
    case 'object':
      break;
    default:
      throw new CanonicalJsonError(`${path} is a ${typeof value}, which JSON cannot carry`);
  }
  const withToJson = value as { toJSON?: () => unknown };
  if (typeof withToJson.toJSON === 'function') return encode(withToJson.toJSON(), ancestors, path);
  if (ancestors.has(value)) throw new CanonicalJsonError(`${path} refers back to itself`);
  ancestors.add(value);
  let out: string;
  if (Array.isArray(value)) {
    out = `[${value.map((item, i) => (item === undefined ? 'null' : encode(item, ancestors, `${path}[${i}]`))).join(',')}]`;
  } else {
    const record = value as Record<string, unknown>;
    const parts: string[] = [];
    for (const key of Object.keys(record).sort()) {
      const item = record[key];
      if (item === undefined) continue; // as JSON.stringify: absent, not null
      parts.push(`${JSON.stringify(key)}:${encode(item, ancestors, `${path}.${key}`)}`);
    }
    out = `{${parts.join(',')}}`;
  }
  ancestors.delete(value);
  return out;
}

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
