// After-the-fact and follow-up commands: the post-hoc review of a break-glass grant, and the
// requester's nudge to the reviewers of a pending one.
import { type Command, flag, grantIdArg } from '../command.js';
import { type GrantView, progress } from '../grants.js';
import { out, printJson } from '../output.js';

export const review: Command = {
  name: 'review',
  summary: 'decide the post-hoc review of a break-glass grant',
  help: `Usage: jit review ID --ok|--flag [--comment TEXT] [--revoke]

  --ok            acknowledge: the emergency access was justified
  --flag          flag it: something is wrong (--comment says what)
  --comment TEXT  a note; required with --flag, kept in the audit trail
  --revoke        with --flag: also revoke the grant now, if it is still active`,
  options: {
    ok: { type: 'boolean' },
    flag: { type: 'boolean' },
    comment: { type: 'string' },
    revoke: { type: 'boolean' },
  },
  args: [1, 1],
  async run(ctx) {
    const id = grantIdArg(ctx);
    const flagged = ctx.values.flag === true;
    if (flagged === (ctx.values.ok === true)) ctx.usage('say either --ok or --flag');
    const comment = flag(ctx, 'comment')?.trim();
    if (flagged && !comment) ctx.usage('--flag needs --comment saying why');
    if (ctx.values.revoke === true && !flagged) ctx.usage('--revoke goes with --flag');
    const view = await ctx.api.post<GrantView>(`/v1/requests/${id}/review`, {
      outcome: flagged ? 'flagged' : 'acknowledged',
      ...(comment ? { comment } : {}),
      ...(ctx.values.revoke === true ? { revoke: true } : {}),
    });
    if (ctx.json) printJson(view);
    else out(`${view.id}: review ${view.review?.outcome ?? view.review?.status}; grant ${progress(view)}`);
    return undefined;
  },
};

export const nudge: Command = {
  name: 'nudge',
  summary: 'remind the reviewers of your pending request (rate-limited)',
  help: 'Usage: jit nudge ID',
  args: [1, 1],
  async run(ctx) {
    const view = await ctx.api.post<GrantView>(`/v1/requests/${grantIdArg(ctx)}/nudge`, {});
    if (ctx.json) printJson(view);
    else out(`${view.id}: reviewers reminded; ${progress(view)}`);
    return undefined;
  },
};
