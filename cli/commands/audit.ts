// For auditors: stream the audit trail out, check its hash chain.
import { createWriteStream } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Command, type Context, flag } from '../command.js';
import { exitCodes } from '../errors.js';
import { note, out, paint, printJson } from '../output.js';

export const auditExport: Command = {
  name: 'audit export',
  summary: 'stream audit events (or one row per grant) as CSV or JSON Lines',
  help: `Usage: jit audit export [--from ISO] [--to ISO] [--format csv|jsonl] [--grants] [--out FILE]

  --from, --to      time range: a day (2025-01-31, its start in UTC) or a time with an offset
                    (2025-01-31T09:00:00Z); --to is exclusive
  --format F        jsonl (default) or csv
  --grants          one row per grant instead of one per event
  --requester SUB, --role R, --grant ID   narrow it down
  --out FILE        write to FILE instead of stdout`,
  options: {
    from: { type: 'string' },
    to: { type: 'string' },
    format: { type: 'string' },
    grants: { type: 'boolean' },
    requester: { type: 'string' },
    role: { type: 'string' },
    grant: { type: 'string' },
    out: { type: 'string' },
  },
  async run(ctx) {
    const format = flag(ctx, 'format') ?? 'jsonl';
    if (format !== 'csv' && format !== 'jsonl') ctx.usage(`--format must be csv or jsonl, not "${format}"`);
    const response = await ctx.api.stream('/v1/audit/events', {
      from: instant(ctx, 'from'),
      to: instant(ctx, 'to'),
      format,
      grants: ctx.values.grants ? true : undefined,
      requester: flag(ctx, 'requester'),
      role: flag(ctx, 'role'),
      grant: flag(ctx, 'grant'),
    });
    const file = flag(ctx, 'out');
    // Streamed through: an export of years of events never sits in memory.
    const destination = file ? createWriteStream(file) : stdoutWithoutClosing();
    await pipeline(response, destination);
    if (file) note(`wrote ${file}`);
    return undefined;
  },
};

/**
 * A --from/--to value as the API takes it: a plain day is its start in UTC; a time must say its
 * offset (a bare local time would mean different rows on different machines).
 */
export function parseInstant(value: string): string | undefined {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const day = `${value}T00:00:00Z`;
    // Date.parse rolls 2026-02-30 over to March: the day must come back as written.
    const at = Date.parse(day);
    return !Number.isNaN(at) && new Date(at).toISOString().startsWith(value) ? day : undefined;
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(value)) return undefined;
  return Number.isNaN(Date.parse(value)) ? undefined : value;
}

function instant(ctx: Context, name: string): string | undefined {
  const value = flag(ctx, name);
  if (value === undefined) return undefined;
  const parsed = parseInstant(value);
  if (!parsed) {
    ctx.usage(
      `--${name} "${value}" is not a day (2026-12-01) or a time with an offset (2026-12-01T09:00:00Z)`,
    );
  }
  return parsed;
}

/** Writes to stdout without ending it, as a pipeline would. */
function stdoutWithoutClosing(): Writable {
  return new Writable({
    write(chunk, _encoding, done) {
      if (process.stdout.write(chunk)) done();
      else process.stdout.once('drain', () => done());
    },
  });
}

interface VerifyResult {
  ok: boolean;
  rowsChecked: number;
  firstBroken?: { position: number; eventId: string; problem: string };
  head?: { position: number; hash: string };
}

export const auditVerify: Command = {
  name: 'audit verify',
  summary: "recompute the audit trail's hash chain; exit 3 if it is broken",
  help: `Usage: jit audit verify [--json]

Exit 0: the chain is intact. Exit 3: it is broken at the row named. Prints the head (last row's
position and hash): keep it elsewhere (a ticket, a log sink); a later verify whose chain no longer
contains it shows the trail was cut.`,
  async run(ctx) {
    const result = await ctx.api.get<VerifyResult>('/v1/audit/verify');
    if (ctx.json) printJson(result);
    else if (result.ok) {
      out(`${paint('green', 'ok')}: audit chain intact, ${result.rowsChecked} rows checked`);
      if (result.head) out(`head: row ${result.head.position}, hash ${result.head.hash}`);
    } else {
      const b = result.firstBroken;
      out(
        `${paint('red', 'BROKEN')}: ${b ? `row ${b.position} (event ${b.eventId}): ${b.problem}` : 'chain broken'}; ${result.rowsChecked} rows checked`,
      );
    }
    return result.ok ? exitCodes.ok : exitCodes.negative;
  },
};
