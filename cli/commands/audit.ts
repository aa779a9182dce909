// For auditors: stream the audit trail out, check its hash chain.
import { createWriteStream } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream } from 'node:stream/web';
import { type Command, flag } from '../command.js';
import { exitCodes } from '../errors.js';
import { note, out, paint, printJson } from '../output.js';

export const auditExport: Command = {
  name: 'audit export',
  summary: 'stream audit events (or one row per grant) as CSV or JSON Lines',
  help: `Usage: jit audit export [--from ISO] [--to ISO] [--format csv|jsonl] [--grants] [--out FILE]

  --from, --to      time range, ISO 8601 with offset (2025-01-31T00:00:00Z)
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
      from: flag(ctx, 'from'),
      to: flag(ctx, 'to'),
      format,
      grants: ctx.values.grants ? true : undefined,
      requester: flag(ctx, 'requester'),
      role: flag(ctx, 'role'),
      grant: flag(ctx, 'grant'),
    });
    const file = flag(ctx, 'out');
    // Streamed through: an export of years of events never sits in memory.
    const body = Readable.fromWeb((response.body ?? new Blob([]).stream()) as ReadableStream);
    const destination = file ? createWriteStream(file) : stdoutWithoutClosing();
    await pipeline(body, destination);
    if (file) note(`wrote ${file}`);
    return undefined;
  },
};

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
}

export const auditVerify: Command = {
  name: 'audit verify',
  summary: "recompute the audit trail's hash chain; exit 3 if it is broken",
  help: 'Usage: jit audit verify [--json]\n\nExit 0: the chain is intact. Exit 3: it is broken at the row named.',
  async run(ctx) {
    const result = await ctx.api.get<VerifyResult>('/v1/audit/verify');
    if (ctx.json) printJson(result);
    else if (result.ok)
      out(`${paint('green', 'ok')}: audit chain intact, ${result.rowsChecked} rows checked`);
    else {
      const b = result.firstBroken;
      out(
        `${paint('red', 'BROKEN')}: ${b ? `row ${b.position} (event ${b.eventId}): ${b.problem}` : 'chain broken'}; ${result.rowsChecked} rows checked`,
      );
    }
    return result.ok ? exitCodes.ok : exitCodes.negative;
  },
};
