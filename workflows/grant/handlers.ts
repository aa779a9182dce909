// The grant's Updates, wired to the rules (validators.ts) and the transitions (state.ts). A
// validator verifies the command's signed assertion and the rules, synchronously; a refusal writes
// no history. Every answer is the grant as the read model will show it: the handler returns once
// its events are in the audit trail, so a read right after never sees an earlier state.
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  currentUpdateInfo,
  setHandler,
} from '@temporalio/workflow';
import {
  type AssertionAction,
  type AssertionClaims,
  AssertionError,
  readVerifiedClaims,
  verifyAssertion,
} from '../../common/assertion.js';
import type { IssuedCredentials } from '../../common/grant.js';
import {
  approveUpdate,
  awaitDecisionUpdate,
  cancelUpdate,
  denyUpdate,
  extendUpdate,
  grantViewQuery,
  issueCredentialsUpdate,
  nudgeUpdate,
  revokeUpdate,
} from '../../common/grant-messages.js';
import { isRefusedPayload } from '../../common/refused-payload.js';
import { MIN_SESSION_SECONDS, toSourceIdentity, toTagValue } from '../../common/sts-limits.js';
import { verificationKeys } from '../assertion-keys.js';
import { assumeRole, evaluateGrantRequest } from './activities.js';
import type { Notifications } from './notifications.js';
import { checkNudge, nudge } from './reminders.js';
import { type GrantState, iso, reject } from './state.js';
import {
  checkApprove,
  checkCancel,
  checkCap,
  checkDeny,
  checkExtend,
  checkIssueCredentials,
  checkRevoke,
  type GrantFacts,
  Refusal,
} from './validators.js';

const facts = (grant: GrantState): GrantFacts => ({
  decided: grant.decided,
  status: grant.status,
  requester: grant.requester,
  ...(grant.request.onBehalfOf ? { onBehalfOf: grant.request.onBehalfOf } : {}),
  ...(grant.decided ? { view: grant.view } : {}),
  extensionInFlight: grant.extensionInFlight,
  maxTotalDurationSeconds: grant.role?.maxTotalDurationSeconds ?? 0,
});

/** Runs a rule; a Refusal becomes the Update's rejection with its code. */
function rule<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof Refusal || err instanceof AssertionError) return reject(err.code, err.message);
    throw err;
  }
}

/** Validator side: the assertion must verify for this grant, action, update id and arguments. */
function verified(grant: GrantState, action: AssertionAction, args: { assertion: string }): AssertionClaims {
  if (isRefusedPayload(args))
    reject('payload_not_encrypted', 'the command was not encrypted with the broker key');
  return rule(() =>
    verifyAssertion(args.assertion, verificationKeys(), {
      grantId: grant.id,
      action,
      updateId: currentUpdateInfo()?.id ?? '',
      args,
      now: Date.now(),
    }),
  );
}

export function registerHandlers(grant: GrantState, notify: Notifications): void {
  const actor = (claims: AssertionClaims) => ({
    sub: claims.principal.sub,
    ...(claims.principal.email ? { email: claims.principal.email } : {}),
    kind: claims.principal.kind ?? ('person' as const),
  });
  /** Answers once the grant has ended and the end is in the audit trail. */
  const untilEnded = async () => {
    await condition(() => grant.endedAt !== undefined);
    await grant.flushed(grant.endedAt);
    return grant.view;
  };

  setHandler(grantViewQuery, () => grant.view);

  setHandler(
    awaitDecisionUpdate,
    async () => {
      await condition(() => grant.answerableAt !== undefined);
      await grant.flushed(grant.answerableAt);
      return grant.view;
    },
    {
      validator: ({ requestDigest }) => {
        const own = grant.request.requestDigest;
        if (requestDigest && own && requestDigest !== own)
          reject('idempotency_conflict', 'this Idempotency-Key was used with a different request');
      },
    },
  );

  setHandler(
    approveUpdate,
    async (args) => {
      const claims = readVerifiedClaims(args.assertion);
      const target = rule(() => checkApprove(facts(grant), claims, args.target));
      const extension = target === 'extension';
      const pending = extension ? grant.view.pendingExtension : undefined;
      grant.record('grant.approval_recorded', actor(claims), {
        approvals: (extension ? (pending?.approvals.length ?? 0) : grant.view.approvals.length) + 1,
        of: extension ? (pending?.requiredApprovals ?? 0) : grant.view.requiredApprovals,
        ...(args.comment ? { comment: args.comment } : {}),
        policyIds: claims.verdict.policyIds,
        ...(extension ? { extension: true } : {}),
        door: claims.door,
      });
      if (extension) {
        const ext = grant.view.pendingExtension;
        if (ext && ext.approvals.length >= ext.requiredApprovals)
          applyExtension(
            grant,
            notify,
            ext.durationSeconds,
            ext.approvals.map((a) => a.by),
          );
      } else {
        notify.refresh();
        // The approval that completes the count answers with the grant already active.
        if (grant.approvalsMet) await condition(() => grant.status !== 'pending');
      }
      await grant.flushed();
      return grant.view;
    },
    {
      validator: (args) =>
        rule(() => checkApprove(facts(grant), verified(grant, 'approve', args), args.target)),
    },
  );

  setHandler(
    denyUpdate,
    async (args) => {
      const claims = readVerifiedClaims(args.assertion);
      const target = rule(() => checkDeny(facts(grant), claims, args.reason, args.target));
      if (target === 'extension') {
        grant.record('grant.extension_denied', actor(claims), { reason: args.reason });
        notify.refresh();
        await grant.flushed();
        return grant.view;
      }
      const who = claims.principal.email ?? claims.principal.sub;
      grant.end('denied', `denied by ${who}: ${args.reason}`, actor(claims));
      return untilEnded();
    },
    {
      validator: (args) =>
        rule(() => checkDeny(facts(grant), verified(grant, 'deny', args), args.reason, args.target)),
    },
  );

  setHandler(
    cancelUpdate,
    async (args) => {
      const claims = readVerifiedClaims(args.assertion);
      rule(() => checkCancel(facts(grant), claims, args.reason));
      const byRequester = claims.principal.sub === grant.requester.sub;
      const who = claims.principal.email ?? claims.principal.sub;
      const reason = byRequester
        ? `cancelled by the requester${args.reason ? `: ${args.reason}` : ''}`
        : `cancelled by ${who}: ${args.reason}`;
      grant.end('cancelled', reason, actor(claims));
      return untilEnded();
    },
    {
      validator: (args) =>
        rule(() => checkCancel(facts(grant), verified(grant, 'cancel', args), args.reason)),
    },
  );

  setHandler(
    revokeUpdate,
    async (args) => {
      const claims = readVerifiedClaims(args.assertion);
      rule(() => checkRevoke(facts(grant), claims, args.reason));
      const who = claims.principal.email ?? claims.principal.sub;
      grant.end('revoked', `revoked by ${who}: ${args.reason}`, actor(claims));
      return untilEnded();
    },
    {
      validator: (args) =>
        rule(() => checkRevoke(facts(grant), verified(grant, 'revoke', args), args.reason)),
    },
  );

  setHandler(
    extendUpdate,
    async (args) => {
      const claims = readVerifiedClaims(args.assertion);
      rule(() => checkExtend(facts(grant), claims, args.durationSeconds, args.reason));
      // Marked before the await, so a second extend is refused while this one asks policy.
      grant.extensionInFlight = true;
      try {
        const { decision } = await evaluateGrantRequest({
          requester: grant.requester,
          roleId: grant.request.roleId,
          durationSeconds: args.durationSeconds,
          reason: args.reason,
          ...(grant.request.ticket ? { ticket: grant.request.ticket } : {}),
          ...(grant.request.onBehalfOf ? { onBehalfOf: grant.request.onBehalfOf } : {}),
          alreadyGrantedSeconds: grant.view.duration,
        });
        // The grant may have moved while policy answered.
        if (grant.status !== 'active') reject('grant_not_active', `grant is ${grant.status}`);
        rule(() => checkCap(facts(grant), args.durationSeconds));
        if (!decision.allowed)
          reject('not_eligible', decision.reasons.join('; ') || 'policy does not allow this extension');
        const requiredApprovals = decision.autoApproved ? 0 : decision.approvalsRequired;
        grant.record('grant.extension_requested', actor(claims), {
          durationSeconds: args.durationSeconds,
          reason: args.reason,
          policyIds: decision.policyIds,
          autoApproved: requiredApprovals === 0,
          requiredApprovals,
        });
        if (requiredApprovals === 0) applyExtension(grant, notify, args.durationSeconds, []);
        else grant.extensionDeadline = Date.now() + decision.approvalTimeoutSeconds * 1000;
      } finally {
        grant.extensionInFlight = false;
      }
      await grant.flushed();
      return grant.view;
    },
    {
      validator: (args) =>
        rule(() =>
          checkExtend(facts(grant), verified(grant, 'extend', args), args.durationSeconds, args.reason),
        ),
    },
  );

  setHandler(
    nudgeUpdate,
    async (args) => {
      const claims = readVerifiedClaims(args.assertion);
      rule(() => checkNudgeNow(grant, claims));
      nudge(grant, notify, claims);
      await grant.flushed();
      return grant.view;
    },
    { validator: (args) => rule(() => checkNudgeNow(grant, verified(grant, 'nudge', args))) },
  );

  setHandler(
    issueCredentialsUpdate,
    async (args): Promise<IssuedCredentials> => {
      const claims = readVerifiedClaims(args.assertion);
      rule(() => checkIssueCredentials(facts(grant), claims));
      grant.issuing += 1;
      try {
        const role = grant.role as NonNullable<GrantState['role']>;
        const view = grant.view;
        const sessionName = `jit-${grant.id.replace(/^grant-/, '')}-${++grant.sessionCounter}`;
        const sourceIdentity = toSourceIdentity(grant.requester.email ?? grant.requester.sub);
        const secondsLeft = Math.floor((Date.parse(view.expiresAt as string) - Date.now()) / 1000);
        let creds: Awaited<ReturnType<typeof assumeRole>>;
        try {
          creds = await assumeRole({
            grantId: grant.id,
            roleArn: role.arn,
            sessionName,
            sourceIdentity,
            // STS's floor may outlast the grant: the revocation ledger denies the rest at the end.
            durationSeconds: Math.max(MIN_SESSION_SECONDS, Math.min(secondsLeft, role.roleMaxSessionSeconds)),
            tags: {
              'jit-grant': grant.id,
              'jit-requester': toTagValue(grant.requester.sub),
              ...(grant.request.ticket ? { 'jit-ticket': toTagValue(grant.request.ticket) } : {}),
            },
          });
        } catch (err) {
          // STS away, or refusing: this call fails and says so; the grant stays active.
          const cause = err instanceof ActivityFailure ? err.cause : err;
          if (cause instanceof ApplicationFailure && cause.type === 'grant_ended')
            reject('grant_not_active', 'the grant has ended');
          const message = (cause as Error | undefined)?.message ?? 'error';
          // Refused for good (a trust policy, a limit) or away for now: either way only this call fails.
          if (cause instanceof ApplicationFailure && cause.nonRetryable)
            reject('aws_refused', `AWS refused to issue credentials: ${message}`);
          reject('aws_unavailable', `AWS did not issue credentials in time: ${message}`);
          throw err;
        }
        grant.sessions.push({
          sessionName,
          expiresAt: creds.expiration,
          assumedRoleId: creds.assumedRoleId,
        });
        grant.record('grant.credentials_issued', actor(claims), {
          sessionName,
          accessKeyId: creds.accessKeyId,
          sourceIdentity,
          expiresAt: creds.expiration,
          assumedRoleArn: creds.assumedRoleArn,
          assumedRoleId: creds.assumedRoleId,
          updateId: currentUpdateInfo()?.id ?? '',
        });
        await grant.flushed();
        // Ended while STS answered: the session is on record (the ledger covers it), the caller gets nothing.
        if (grant.status !== 'active') reject('grant_not_active', `grant is ${grant.status}`);
        return {
          Version: 1,
          AccessKeyId: creds.accessKeyId,
          SecretAccessKey: creds.secretAccessKey,
          SessionToken: creds.sessionToken,
          // Tells SDKs to come back at the grant's end, not the session's.
          Expiration: iso(Math.min(Date.parse(creds.expiration), Date.parse(grant.view.expiresAt as string))),
        };
      } finally {
        grant.issuing -= 1;
      }
    },
    {
      validator: (args) =>
        rule(() => checkIssueCredentials(facts(grant), verified(grant, 'issueCredentials', args))),
    },
  );
}

const checkNudgeNow = (grant: GrantState, claims: AssertionClaims) =>
  checkNudge(
    facts(grant),
    claims,
    grant.role?.followUp,
    grant.decided ? grant.view.followUp?.lastNudgedAt : undefined,
    Date.now(),
  );

export function applyExtension(
  grant: GrantState,
  notify: Notifications,
  durationSeconds: number,
  approvals: string[],
): void {
  grant.record('grant.extended', 'system', {
    durationSeconds,
    expiresAt: iso(Date.parse(grant.view.expiresAt as string) + durationSeconds * 1000),
    approvals,
  });
  grant.searchAttributes();
  notify.refresh();
}
