// Asking for access and deciding on it: roles, request (and follow it), status, list, the decisions.
import { setTimeout as sleep } from 'node:timers/promises';
import { type Command, type Context, flag, grantIdArg, requiredFlag } from '../command.js';
import { dropGrant } from '../creds-cache.js';
import { ApiRefusal, CliError, exitCodes } from '../errors.js';
import {
  endedStatuses,
  expiresColumn,
  type GrantListItem,
  type GrantView,
  printGrant,
  printGrantList,
  progress,
} from '../grants.js';
import { formatDuration, note, out, paint, printJson, relativeTime, status, table } from '../output.js';
import { accessToken, jwtClaims } from '../tokens.js';

interface RoleView {
  id: string;
  description: string;
  maxDurationSeconds: number;
  approvalsRequired: number;
  autoApproveMaxSeconds: number;
  breakGlass: boolean;
  ticketPattern?: string;
}

const POLL_INTERVAL_MS = 1000;
/** Consecutive failed polls `--wait` rides out (API restart, network blip) before giving up. */
const MAX_POLL_FAILURES = 10;

export const roles: Command = {
  name: 'roles',
  summary: 'the roles you may request, with their limits',
  help: 'Usage: jit roles [--json]',
  async run({ api, json }) {
    const body = await api.get<{ roles: RoleView[] }>('/v1/roles');
    if (json) return void printJson(body);
    if (body.roles.length === 0) return void out('no roles you may request');
    table(
      ['ROLE', 'MAX', 'APPROVALS', 'DESCRIPTION'],
      body.roles.map((r) => [
        r.id,
        formatDuration(r.maxDurationSeconds),
        approvalSummary(r),
        r.description + (r.ticketPattern ? ' (ticket required)' : ''),
      ]),
    );
    return undefined;
  },
};

function approvalSummary(role: RoleView): string {
  if (role.breakGlass) return 'none (break-glass)';
  if (role.approvalsRequired === 0) return 'none';
  const auto =
    role.autoApproveMaxSeconds > 0 ? `, none up to ${formatDuration(role.autoApproveMaxSeconds)}` : '';
  return `${role.approvalsRequired}${auto}`;
}

export const request: Command = {
  name: 'request',
  summary: 'ask for a role for a while, with a reason',
  help: `Usage: jit request ROLE --for DURATION --reason TEXT [--ticket T] [--wait]

  --for DURATION   how long, e.g. 30m, 1h, 1h30m (the grant clock starts when it becomes active)
  --reason TEXT    why; shown to reviewers and kept in the audit trail
  --ticket T       incident or change ticket, e.g. INC-42 (some roles require one)
  --wait           follow the grant until it is active (exit 0) or ends without (exit 3)`,
  options: {
    for: { type: 'string' },
    reason: { type: 'string' },
    ticket: { type: 'string' },
    wait: { type: 'boolean' },
  },
  args: [1, 1],
  async run(ctx) {
    const role = ctx.positionals[0] as string;
    const body = {
      role,
      duration: requiredFlag(ctx, 'for'),
      reason: requiredFlag(ctx, 'reason'),
      ...(flag(ctx, 'ticket') ? { ticket: flag(ctx, 'ticket') } : {}),
    };
    const view = await ctx.api.post<GrantView>('/v1/requests', body);
    note(`requested ${view.id}: ${progress(view)}`);
    if (!ctx.values.wait) {
      show(ctx, view);
      if (view.status === 'pending')
        note(`reviewers have been asked; follow it with \`jit status ${view.id}\``);
      return undefined;
    }
    return follow(ctx, view);
  },
};

/** Polls the grant until it leaves pending, printing each change in its approvals to stderr. */
async function follow(ctx: Context, first: GrantView): Promise<number> {
  let view = first;
  let last = progress(view);
  let failures = 0;
  while (view.status === 'pending') {
    await sleep(POLL_INTERVAL_MS);
    try {
      view = await ctx.api.get<GrantView>(`/v1/requests/${view.id}`);
      failures = 0;
    } catch (err) {
      // A refusal or a lost login will not fix itself; an unreachable API may.
      if (err instanceof ApiRefusal || (err instanceof CliError && err.exitCode !== exitCodes.failed))
        throw err;
      if (++failures >= MAX_POLL_FAILURES) throw err;
      continue;
    }
    const now = progress(view);
    if (now !== last) note(`${view.id}: ${now}`);
    last = now;
  }
  show(ctx, view);
  if (view.status === 'active') return exitCodes.ok;
  note(`${view.id} ended without becoming active (${view.status})`);
  return exitCodes.negative;
}

function show(ctx: Context, view: GrantView): void {
  if (ctx.json) printJson(view);
  else printGrant(view);
}

export const statusCommand: Command = {
  name: 'status',
  summary: 'one grant in detail; without ID, your grants and what waits for review',
  help: `Usage: jit status [ID] [--json]

With ID: that grant in detail.
Without: your active and pending grants, then the requests and extensions of others that you can
see and have not approved yet (for a reviewer: what waits for your decision). \`jit list\` shows all.`,
  args: [0, 1],
  async run(ctx) {
    if (ctx.positionals.length === 1) {
      show(ctx, await ctx.api.get<GrantView>(`/v1/requests/${grantIdArg(ctx)}`));
      return undefined;
    }
    const me = String(jwtClaims(await accessToken(ctx.config)).sub);
    // Both lists come from the broker's read model: yours, and what waits for your review.
    const [mineBody, queueBody] = await Promise.all([
      ctx.api.get<{ requests: GrantListItem[] }>('/v1/requests', { requester: me, status: 'pending,active' }),
      ctx.api.get<{ requests: GrantListItem[] }>('/v1/requests', { review: 'me' }),
    ]);
    const mine = newestFirst(mineBody.requests);
    const toReview = newestFirst(queueBody.requests).map((view) => {
      const ext = view.status === 'active' ? view.pendingExtension : undefined;
      return ext
        ? {
            view,
            what: `extension +${formatDuration(ext.durationSeconds)}`,
            approvals: ext.approvals,
            required: ext.requiredApprovals,
          }
        : { view, what: 'request', approvals: view.approvals, required: view.requiredApprovals };
    });
    if (ctx.json) {
      printJson({
        mine,
        toReview: toReview.map(({ view, what, approvals, required }) => ({
          id: view.id,
          role: view.role.id,
          requester: view.requester,
          what,
          approvals: approvals.length,
          requiredApprovals: required,
          reason: view.reason,
          createdAt: view.createdAt,
        })),
      });
      return undefined;
    }
    out(paint('bold', 'Your active and pending grants'));
    if (mine.length === 0) out('none');
    else
      table(
        ['ID', 'ROLE', 'STATUS', 'CREATED', 'EXPIRES'],
        mine.map((g) => [g.id, g.role.id, status(g.status), relativeTime(g.createdAt), expiresColumn(g)]),
      );
    out();
    out(paint('bold', 'Waiting for review (by others, not approved by you)'));
    if (toReview.length === 0) out('none');
    else {
      table(
        ['ID', 'ROLE', 'REQUESTER', 'WHAT', 'APPROVALS', 'ASKED', 'REASON'],
        toReview.map(({ view, what, approvals, required }) => [
          view.id,
          view.role.id,
          view.requester.email ?? view.requester.sub,
          what,
          `${approvals.length} of ${required}`,
          relativeTime(view.pendingExtension?.requestedAt ?? view.createdAt),
          view.pendingExtension?.reason ?? view.reason,
        ]),
      );
      note('decide with `jit approve ID` or `jit deny ID --reason TEXT`');
    }
    return undefined;
  },
};

export const list: Command = {
  name: 'list',
  summary: 'grants you can see (yours; reviewers: those you review; auditors: all)',
  help: `Usage: jit list [--status S] [--role R] [--requester SUB] [--kind K] [--limit N] [--json]

  --status S       pending, active, denied, cancelled, timed_out, failed, expired, revoked
  --role R         one role id
  --requester SUB  one requester: a person's sub, or workload:<name> (auditors see everyone's)
  --kind K         person or workload
  --limit N        at most N grants (default 100)`,
  options: {
    status: { type: 'string' },
    role: { type: 'string' },
    requester: { type: 'string' },
    kind: { type: 'string' },
    limit: { type: 'string' },
  },
  async run(ctx) {
    const body = await ctx.api.get<{ requests: GrantListItem[] }>('/v1/requests', {
      status: flag(ctx, 'status'),
      role: flag(ctx, 'role'),
      requester: flag(ctx, 'requester'),
      requesterKind: flag(ctx, 'kind'),
      limit: flag(ctx, 'limit'),
    });
    const grants = newestFirst(body.requests);
    if (ctx.json) printJson({ requests: grants });
    else printGrantList(grants);
    return undefined;
  },
};

export const newestFirst = (grants: GrantListItem[]) =>
  [...grants].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));

/** A decision on a grant: POST /v1/requests/{id}/<action>, then where the grant stands. */
function decision(
  action: string,
  spec: Pick<Command, 'summary' | 'help' | 'options'>,
  body: (ctx: Context) => object,
): Command {
  return {
    name: action,
    ...spec,
    args: [1, 1],
    async run(ctx) {
      const id = grantIdArg(ctx);
      const payload = body(ctx);
      const view = await ctx.api.post<GrantView>(`/v1/requests/${id}/${action}`, payload);
      // Credentials cached for an ended grant would only fail their next status check.
      if (endedStatuses.has(view.status)) dropGrant(ctx.config, id);
      if (ctx.json) printJson(view);
      else out(`${view.id}: ${progress(view)}`);
      return undefined;
    },
  };
}

export const approve = decision(
  'approve',
  {
    summary: 'approve a pending grant (or its pending extension)',
    help: 'Usage: jit approve ID [--comment TEXT]',
    options: { comment: { type: 'string' } },
  },
  (ctx) => (flag(ctx, 'comment') ? { comment: flag(ctx, 'comment') } : {}),
);

export const deny = decision(
  'deny',
  {
    summary: 'deny a pending grant',
    help: 'Usage: jit deny ID --reason TEXT',
    options: { reason: { type: 'string' } },
  },
  (ctx) => ({ reason: requiredFlag(ctx, 'reason') }),
);

export const cancel = decision(
  'cancel',
  { summary: 'withdraw your own pending grant', help: 'Usage: jit cancel ID' },
  () => ({}),
);

export const revoke = decision(
  'revoke',
  {
    summary: 'end an active grant now; its credentials stop working',
    help: 'Usage: jit revoke ID --reason TEXT',
    options: { reason: { type: 'string' } },
  },
  (ctx) => ({ reason: requiredFlag(ctx, 'reason') }),
);

export const extend = decision(
  'extend',
  {
    summary: 'ask for more time on an active grant (may need approval again)',
    help: `Usage: jit extend ID --for DURATION --reason TEXT

  --for DURATION   extra time, e.g. 30m
  --reason TEXT    why`,
    options: { for: { type: 'string' }, reason: { type: 'string' } },
  },
  (ctx) => ({ duration: requiredFlag(ctx, 'for'), reason: requiredFlag(ctx, 'reason') }),
);
