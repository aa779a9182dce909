// The kill switch: everything a principal (a person, or `workload:<name>`) holds, taken at once.
import type { Command } from '../command.js';
import { exitCodes } from '../errors.js';
import { note, out, printJson } from '../output.js';

interface RevokeAllResult {
  id: string;
  principal: string;
  revoked: string[];
  cancelled: string[];
  failed: { id: string; code: string; message: string }[];
}

export const kill: Command = {
  name: 'kill',
  summary: 'revoke every active grant of a principal and cancel its pending ones (auditors)',
  help: `Usage: jit kill PRINCIPAL --reason TEXT [--json]

  PRINCIPAL      a person's sub, or a workload as workload:<name> (e.g. workload:ai-agent)
  --reason TEXT  why; in the audit trail and every grant's end reason

Exit code 1 if a grant could not be ended (run it again to retry those).
What the principal holds or held: jit list --requester PRINCIPAL`,
  options: { reason: { type: 'string' } },
  args: [1, 1],
  async run(ctx) {
    const target = ctx.positionals[0] as string;
    const reason = ctx.values.reason;
    if (typeof reason !== 'string' || reason.trim() === '') ctx.usage('missing --reason');
    const result = await ctx.api.post<RevokeAllResult>(
      `/v1/principals/${encodeURIComponent(target)}/revoke-all`,
      { reason },
    );
    if (ctx.json) printJson(result);
    else {
      for (const id of result.revoked) out(`${id}: revoked`);
      for (const id of result.cancelled) out(`${id}: cancelled`);
      for (const f of result.failed) out(`${f.id}: NOT ended (${f.code}: ${f.message})`);
      note(
        `${result.id}: ${result.revoked.length} revoked, ${result.cancelled.length} cancelled` +
          (result.failed.length > 0 ? `, ${result.failed.length} failed` : ''),
      );
    }
    return result.failed.length > 0 ? exitCodes.failed : exitCodes.ok;
  },
};
