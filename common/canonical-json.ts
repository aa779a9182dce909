// Canonical JSON: one text for one value whatever order its keys were built in. Hashed by the
// audit chain and by signed assertions (the workflow recomputes it), so it must be pure and stable.

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
