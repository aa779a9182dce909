// The first grant workflow, frozen: grants started before the signed-assertion release run (and
// replay) this code to their end. New grants take workflows/grant/lifecycle.ts. Delete this file,
// and turn the patch in lifecycle.ts into deprecatePatch, once no such grant can be open.
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  log,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { AuditEventType } from '../../common/audit-event.js';
import { JitExpiresAt, JitRequester, JitRole, JitStatus } from '../../common/search-attributes.js';
import { MIN_SESSION_SECONDS, toSourceIdentity, toTagValue } from '../../common/sts-limits.js';
import {
  type V1Activities as Activities,
  type Approval,
  type ApprovalMessageRef,
  approveUpdate,
  cancelUpdate,
  denyUpdate,
  extendUpdate,
  type GrantCard,
  type GrantRejection,
  type GrantRequest,
  type GrantStatus,
  type GrantView,
  grantViewQuery,
  type IssuedCredentials,
  issueCredentialsUpdate,
  type PendingExtension,
  type RequesterNoticeKind,
  type RoleSnapshot,
  revokeUpdate,
  type SessionRecord,
} from './v1-contract.js';

const { evaluateGrantRequest } = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '10 seconds', maximumAttempts: 10 },
});
const { assumeRole } = proxyActivities<Activities>({
  startToCloseTimeout: '20 seconds',
  retry: { initialInterval: '500 milliseconds', maximumInterval: '10 seconds', maximumAttempts: 5 },
});
// Audit rows and revocations must land: retried until they do (non-retryable errors aside).
const { recordAuditEvent, coverSessions } = proxyActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '30 seconds' },
});

// Slack is best effort but patient: retried for a day so messages catch up after an outage, and
// never awaited by a decision.
const { postApprovalMessage, updateApprovalMessage, notifyRequester } = proxyActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  scheduleToCloseTimeout: '24 hours',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});
/** The requester hears this long before the end, with how to extend. */
const REMIND_BEFORE_MS = 10 * 60 * 1000;

const endAuditType: Record<Exclude<GrantStatus, 'pending' | 'active'>, AuditEventType> = {
  denied: 'grant.denied',
  cancelled: 'grant.cancelled',
  timed_out: 'grant.timed_out',
  expired: 'grant.expired',
  revoked: 'grant.revoked',
  failed: 'grant.failed',
};

const reject = (code: GrantRejection, message: string): never => {
  throw ApplicationFailure.create({ type: code, message, nonRetryable: true });
};
const iso = (ms: number) => new Date(ms).toISOString();

export async function grantWorkflowV1(request: GrantRequest): Promise<GrantView> {
  const { grantId, requester } = request;
  const createdAt = iso(workflowInfo().startTime.getTime());
  const view: GrantView = {
    id: grantId,
    status: 'pending',
    requester: { sub: requester.sub, ...(requester.email ? { email: requester.email } : {}) },
    role: { id: request.roleId },
    duration: request.durationSeconds,
    reason: request.reason,
    ...(request.ticket ? { ticket: request.ticket } : {}),
    breakGlass: false,
    approvals: [],
    requiredApprovals: 0,
    createdAt,
    sessions: [],
    policyIds: [],
    timeline: [{ at: createdAt, type: 'requested', by: requester.sub, detail: request.reason }],
  };
  let role: RoleSnapshot | undefined;
  let decided = false;
  let closed = false;
  let issuing = 0;
  let sessionCounter = 0;
  let extensionDeadline = 0;
  const sessions: SessionRecord[] = [];
  // Set from the policy outcome when the worker talks to Slack.
  let slack: { channel?: string } | undefined;
  let remindedFor: string | undefined;

  // Audit events are written strictly in order, one activity at a time.
  let auditSeq = 0;
  let auditChain: Promise<void> = Promise.resolve();
  const audit = (type: AuditEventType, actor: string, data: Record<string, unknown>, actorEmail?: string) => {
    const event = {
      eventId: `${grantId}:${++auditSeq}`,
      occurredAt: iso(Date.now()),
      grantId,
      type,
      actor,
      ...(actorEmail ? { actorEmail } : {}),
      roleId: request.roleId,
      requester: requester.sub,
      data,
    };
    auditChain = auditChain.then(() => recordAuditEvent(event));
  };
  // Slack steps run on two queues beside the lifecycle, so a slow or absent Slack delays no decision
  // and a failing DM never holds the channel message back (or the reverse).
  let messageChain: Promise<void> = Promise.resolve();
  let noticeChain: Promise<void> = Promise.resolve();
  const queued = (chain: Promise<void>, step: () => Promise<unknown>) =>
    chain
      .then(step)
      .then(() => undefined)
      .catch((err: unknown) => log.warn('Slack step abandoned', { error: String(err) }));
  let approvalMessage: ApprovalMessageRef | null = null;
  let shownOnMessage: string | undefined;
  const card = (): GrantCard => ({
    id: grantId,
    status: view.status,
    requester: view.requester,
    role: { id: view.role.id, ...(role ? { account: role.account } : {}) },
    duration: view.duration,
    reason: view.reason,
    ...(view.ticket ? { ticket: view.ticket } : {}),
    breakGlass: view.breakGlass,
    approvals: view.approvals.map((a) => ({ by: a.by, ...(a.email ? { email: a.email } : {}) })),
    requiredApprovals: view.requiredApprovals,
    ...(view.expiresAt ? { expiresAt: view.expiresAt } : {}),
    ...(view.endedAt ? { endedAt: view.endedAt } : {}),
    ...(view.endedBy ? { endedBy: view.endedBy } : {}),
    ...(view.endReason ? { endReason: view.endReason } : {}),
  });
  const postApprovalMessageTo = (channel: string) => {
    messageChain = queued(messageChain, async () => {
      const shown = card();
      approvalMessage = await postApprovalMessage({ channel, card: shown });
      shownOnMessage = JSON.stringify(shown);
    });
  };
  /** Edits the approval message to the grant's state when the edit runs; edits queued behind an outage collapse. */
  const refreshApprovalMessage = () => {
    if (!slack) return;
    messageChain = queued(messageChain, async () => {
      const shown = card();
      const key = JSON.stringify(shown);
      if (!approvalMessage || key === shownOnMessage) return;
      await updateApprovalMessage({ message: approvalMessage, card: shown });
      shownOnMessage = key;
    });
  };
  const tellRequester = (kind: RequesterNoticeKind) => {
    if (!slack) return;
    const snapshot = card();
    noticeChain = queued(noticeChain, async () => {
      // Late after an outage: "you are active" or "ends soon" about a grant that has ended is noise.
      if ((kind === 'active' || kind === 'expiring') && view.status !== 'active') return;
      await notifyRequester({ kind, card: snapshot });
    });
  };
  const note = (type: string, by: string, detail?: string) =>
    view.timeline.push({ at: iso(Date.now()), type, by, ...(detail ? { detail } : {}) });
  const statusAttributes = () => {
    upsertSearchAttributes([
      { key: JitStatus, value: view.status },
      ...(view.expiresAt ? [{ key: JitExpiresAt, value: new Date(view.expiresAt) }] : []),
    ]);
  };
  const secondsLeft = () => (view.expiresAt ? (Date.parse(view.expiresAt) - Date.now()) / 1000 : 0);
  const approvalsMet = () => decided && view.approvals.length >= view.requiredApprovals;

  upsertSearchAttributes([
    { key: JitStatus, value: 'pending' },
    { key: JitRole, value: request.roleId },
    { key: JitRequester, value: requester.sub },
  ]);

  // ---- decisions, validated synchronously so a rejection writes no history ----

  setHandler(grantViewQuery, () => view);

  /** What an approve or deny acts on: the request itself, or a pending extension of an active grant. */
  const reviewTarget = (): 'request' | 'extension' => {
    if (view.status === 'pending') {
      if (!decided) reject('grant_not_pending', 'policy evaluation is still running; try again');
      return 'request';
    }
    if (view.status === 'active' && view.pendingExtension) return 'extension';
    return reject('already_decided', `grant is ${view.status}`);
  };
  const validateReviewer = (by: { sub: string }, allowed: boolean, approvals: Approval[]) => {
    if (by.sub === requester.sub) reject('self_approval', 'you cannot review your own request');
    if (!allowed) reject('not_eligible', 'you are not an eligible reviewer for this role');
    if (approvals.some((a) => a.by === by.sub)) reject('already_approved', 'you have already approved');
  };

  setHandler(
    approveUpdate,
    async ({ by, comment, authorization }) => {
      const target = reviewTarget();
      const approval: Approval = {
        by: by.sub,
        ...(by.email ? { email: by.email } : {}),
        at: iso(Date.now()),
        ...(comment ? { comment } : {}),
        policyIds: authorization.policyIds,
      };
      note('approved', by.sub, comment);
      if (target === 'request') {
        view.approvals.push(approval);
        audit(
          'grant.approval_recorded',
          by.sub,
          {
            approvals: view.approvals.length,
            of: view.requiredApprovals,
            comment,
            policyIds: approval.policyIds,
          },
          by.email,
        );
        refreshApprovalMessage();
        // The approval that completes the count returns the grant already active.
        if (approvalsMet()) await condition(() => view.status !== 'pending');
      } else {
        const ext = view.pendingExtension as PendingExtension;
        ext.approvals.push(approval);
        audit(
          'grant.approval_recorded',
          by.sub,
          { extension: true, approvals: ext.approvals.length, of: ext.requiredApprovals, comment },
          by.email,
        );
        if (ext.approvals.length >= ext.requiredApprovals) applyExtension(ext, by.sub);
      }
      return view;
    },
    {
      validator: ({ by, authorization, target: seen }) => {
        const target = reviewTarget();
        if (seen && seen !== target)
          reject('already_decided', 'the request this decision was for is decided');
        const approvals = target === 'request' ? view.approvals : (view.pendingExtension?.approvals ?? []);
        validateReviewer(by, authorization.allowed, approvals);
      },
    },
  );

  setHandler(
    denyUpdate,
    async ({ by, reason }) => {
      if (reviewTarget() === 'extension') {
        view.pendingExtension = undefined;
        note('extension_denied', by.sub, reason);
        audit('grant.extension_denied', by.sub, { reason }, by.email);
        return view;
      }
      end('denied', `denied by ${by.email ?? by.sub}: ${reason}`, by.sub);
      await condition(() => closed);
      return view;
    },
    {
      validator: ({ by, reason, authorization, target: seen }) => {
        const target = reviewTarget();
        if (seen && seen !== target)
          reject('already_decided', 'the request this decision was for is decided');
        validateReviewer(by, authorization.allowed, []);
        if (!reason.trim()) reject('invalid_argument', 'a reason is required to deny');
      },
    },
  );

  setHandler(
    cancelUpdate,
    async ({ by }) => {
      end('cancelled', 'cancelled by the requester', by.sub);
      await condition(() => closed);
      return view;
    },
    {
      validator: ({ by }) => {
        if (by.sub !== requester.sub) reject('not_requester', 'only the requester can cancel');
        if (view.status !== 'pending') reject('grant_not_pending', `grant is ${view.status}`);
      },
    },
  );

  setHandler(
    revokeUpdate,
    async ({ by, reason }) => {
      end('revoked', `revoked by ${by.email ?? by.sub}: ${reason}`, by.sub);
      await condition(() => closed);
      return view;
    },
    {
      validator: ({ authorization, reason }) => {
        if (view.status !== 'active') reject('grant_not_active', `grant is ${view.status}`);
        if (!authorization.allowed) reject('not_eligible', 'you may not revoke this grant');
        if (!reason.trim()) reject('invalid_argument', 'a reason is required to revoke');
      },
    },
  );

  setHandler(
    extendUpdate,
    async ({ by, durationSeconds, reason }) => {
      const { decision } = await evaluateGrantRequest({
        ...request,
        durationSeconds,
        reason,
        alreadyGrantedSeconds: view.duration,
      });
      if (view.status !== 'active') reject('grant_not_active', `grant is ${view.status}`);
      if (!decision.allowed)
        reject('not_eligible', decision.reasons.join('; ') || 'policy does not allow this extension');
      const ext: PendingExtension = {
        durationSeconds,
        reason,
        requestedAt: iso(Date.now()),
        requiredApprovals: decision.autoApproved ? 0 : decision.approvalsRequired,
        approvals: [],
      };
      note('extension_requested', by.sub, reason);
      audit(
        'grant.extension_requested',
        by.sub,
        { durationSeconds, reason, policyIds: decision.policyIds, autoApproved: decision.autoApproved },
        by.email,
      );
      if (ext.requiredApprovals === 0) {
        applyExtension(ext, 'system');
      } else {
        view.pendingExtension = ext;
        extensionDeadline = Date.now() + decision.approvalTimeoutSeconds * 1000;
      }
      return view;
    },
    {
      validator: ({ by, durationSeconds, reason }) => {
        if (view.status !== 'active') reject('grant_not_active', `grant is ${view.status}`);
        if (by.sub !== requester.sub) reject('not_requester', 'only the requester can extend');
        if (view.pendingExtension)
          reject('extension_pending', 'an extension is already waiting for approval');
        if (!Number.isInteger(durationSeconds) || durationSeconds <= 0)
          reject('invalid_argument', 'duration must be a positive number of seconds');
        if (!reason.trim()) reject('invalid_argument', 'a reason is required to extend');
        const cap = role?.maxTotalDurationSeconds ?? 0;
        if (view.duration + durationSeconds > cap) {
          reject(
            'extension_exceeds_cap',
            `the role allows at most ${cap}s in total; this grant has ${view.duration}s`,
          );
        }
      },
    },
  );

  setHandler(
    issueCredentialsUpdate,
    async (): Promise<IssuedCredentials> => {
      issuing += 1;
      try {
        const activeRole = role as RoleSnapshot;
        const sessionName = `jit-${grantId.replace(/^grant-/, '')}-${++sessionCounter}`;
        const sourceIdentity = toSourceIdentity(requester.email ?? requester.sub);
        let creds: Awaited<ReturnType<typeof assumeRole>>;
        try {
          creds = await assumeRole({
            roleArn: activeRole.arn,
            sessionName,
            sourceIdentity,
            // STS's floor may outlast the grant: the revocation ledger denies the rest at the end.
            durationSeconds: Math.max(
              MIN_SESSION_SECONDS,
              Math.floor(Math.min(secondsLeft(), activeRole.roleMaxSessionSeconds)),
            ),
            tags: {
              'jit-grant': grantId,
              'jit-requester': toTagValue(requester.sub),
              'jit-ticket': toTagValue(request.ticket ?? 'none'),
            },
          });
        } catch (err) {
          // Retries are spent or the error is permanent (access denied, bad role): access cannot work.
          const why = err instanceof ActivityFailure && err.cause ? err.cause.message : String(err);
          if (view.status === 'active') end('failed', `credentials could not be issued: ${why}`, 'system');
          throw ApplicationFailure.create({ type: 'credentials_failed', message: why, nonRetryable: true });
        }
        const session: SessionRecord = {
          accessKeyId: creds.accessKeyId,
          sessionName,
          expiresAt: creds.expiration,
          assumedRoleId: creds.assumedRoleId,
          issuedAt: iso(Date.now()),
        };
        sessions.push(session);
        view.sessions.push({ accessKeyId: session.accessKeyId, sessionName, expiresAt: session.expiresAt });
        note('credentials_issued', requester.sub, sessionName);
        audit(
          'grant.credentials_issued',
          requester.sub,
          {
            sessionName,
            accessKeyId: creds.accessKeyId,
            sourceIdentity,
            expiresAt: creds.expiration,
            assumedRoleArn: creds.assumedRoleArn,
          },
          requester.email,
        );
        // Ended while STS answered: the session is on record (the ledger covers it), the caller gets nothing.
        if (view.status !== 'active') reject('grant_not_active', `grant is ${view.status}`);
        return {
          Version: 1,
          AccessKeyId: creds.accessKeyId,
          SecretAccessKey: creds.secretAccessKey,
          SessionToken: creds.sessionToken,
          // Tells SDKs to come back at the grant's end, not the session's.
          Expiration: iso(Math.min(Date.parse(creds.expiration), Date.parse(view.expiresAt as string))),
        };
      } finally {
        issuing -= 1;
      }
    },
    {
      validator: ({ by }) => {
        if (view.status !== 'active') reject('grant_not_active', `grant is ${view.status}`);
        if (by.sub !== requester.sub) reject('not_requester', 'only the requester can get credentials');
      },
    },
  );

  // ---- transitions ----

  function applyExtension(ext: PendingExtension, by: string): void {
    view.pendingExtension = undefined;
    view.duration += ext.durationSeconds;
    view.expiresAt = iso(Date.parse(view.expiresAt as string) + ext.durationSeconds * 1000);
    note('extended', by, ext.reason);
    audit('grant.extended', by, {
      durationSeconds: ext.durationSeconds,
      expiresAt: view.expiresAt,
      approvals: ext.approvals.map((a) => a.by),
    });
    statusAttributes();
    refreshApprovalMessage();
  }

  function end(status: Exclude<GrantStatus, 'pending' | 'active'>, reason: string, by: string): void {
    if (view.status !== 'pending' && view.status !== 'active') return;
    view.status = status;
    view.endedAt = iso(Date.now());
    view.endReason = reason;
    view.endedBy = by;
    view.pendingExtension = undefined;
    note(status, by, reason);
  }

  /** Denies, through the role's revocation ledger, every session that could outlive the grant. */
  async function close(): Promise<void> {
    await condition(() => issuing === 0);
    const endedAt = Date.parse(view.endedAt as string);
    const live = sessions.filter((s) => Date.parse(s.expiresAt) > endedAt);
    if (live.length > 0 && role) {
      await coverSessions({
        roleArn: role.arn,
        entries: live.map((s) => ({ grantId, assumedRoleId: s.assumedRoleId, expiresAt: s.expiresAt })),
      });
    }
    const status = view.status as Exclude<GrantStatus, 'pending' | 'active'>;
    audit(endAuditType[status], view.endedBy ?? 'system', {
      reason: view.endReason,
      sessionsDenied: live.map((s) => s.sessionName),
    });
    statusAttributes();
    closed = true;
    refreshApprovalMessage();
    if (view.activatedAt) tellRequester('ended');
    else if (decision.allowed && (status === 'denied' || status === 'timed_out')) tellRequester('denied');
  }

  // ---- the lifecycle ----

  const outcome = await evaluateGrantRequest(request);
  const { decision } = outcome;
  role = outcome.role;
  slack = outcome.slack;
  if (role) view.role = { id: role.id, arn: role.arn };
  view.breakGlass = decision.breakGlass;
  view.requiredApprovals = decision.autoApproved ? 0 : decision.approvalsRequired;
  view.policyIds = decision.policyIds;
  decided = true;
  audit(
    'grant.requested',
    requester.sub,
    {
      reason: request.reason,
      ticket: request.ticket,
      durationSeconds: request.durationSeconds,
      allowed: decision.allowed,
      autoApproved: decision.autoApproved,
      breakGlass: decision.breakGlass,
      requiredApprovals: view.requiredApprovals,
      policyIds: decision.policyIds,
      reasons: decision.reasons,
    },
    requester.email,
  );

  // Reviewers see in their channel what waits for them, and break-glass access when it is taken.
  const channel = slack?.channel;
  if (channel && decision.allowed && role && (!approvalsMet() || decision.breakGlass)) {
    postApprovalMessageTo(channel);
  }

  if (!decision.allowed || !role) {
    end('denied', `policy: ${decision.reasons.join('; ') || 'not allowed'}`, 'system');
  } else if (!approvalsMet()) {
    const inTime = await condition(
      () => view.status !== 'pending' || approvalsMet(),
      decision.approvalTimeoutSeconds * 1000,
    );
    if (!inTime) end('timed_out', `no decision within ${decision.approvalTimeoutSeconds}s`, 'system');
  }

  if (view.status === 'pending') {
    const activatedAt = Date.now();
    view.status = 'active';
    view.activatedAt = iso(activatedAt);
    view.expiresAt = iso(activatedAt + view.duration * 1000);
    note('activated', 'system', decision.breakGlass ? 'break-glass: flagged for post-hoc review' : undefined);
    audit('grant.activated', 'system', {
      expiresAt: view.expiresAt,
      approvers: view.approvals.map((a) => a.by),
      breakGlass: decision.breakGlass,
      postHocReview: decision.breakGlass,
    });
    statusAttributes();
    refreshApprovalMessage();
    if (view.approvals.length > 0) tellRequester('approved');
    tellRequester('active');
    // A grant shorter than the reminder lead needs no reminder: the 'active' DM says when it ends.
    if (view.duration * 1000 <= REMIND_BEFORE_MS) remindedFor = view.expiresAt;

    while (view.status === 'active') {
      const armedExpiry: string = view.expiresAt;
      const armedExtension = view.pendingExtension;
      const remindAt =
        slack && remindedFor !== armedExpiry
          ? Date.parse(armedExpiry) - REMIND_BEFORE_MS
          : Number.POSITIVE_INFINITY;
      const wakeAt = Math.min(
        Date.parse(view.expiresAt),
        armedExtension ? extensionDeadline : Number.POSITIVE_INFINITY,
        remindAt,
      );
      await condition(
        () =>
          view.status !== 'active' ||
          view.expiresAt !== armedExpiry ||
          view.pendingExtension !== armedExtension,
        Math.max(wakeAt - Date.now(), 1),
      );
      if (view.status !== 'active') break;
      if (
        view.pendingExtension &&
        view.pendingExtension === armedExtension &&
        Date.now() >= extensionDeadline
      ) {
        view.pendingExtension = undefined;
        note('extension_timed_out', 'system');
        audit('grant.extension_timed_out', 'system', { durationSeconds: armedExtension?.durationSeconds });
      }
      if (Date.now() >= Date.parse(view.expiresAt)) {
        end('expired', 'the granted time is up', 'system');
      } else if (view.expiresAt === armedExpiry && remindedFor !== armedExpiry && Date.now() >= remindAt) {
        remindedFor = view.expiresAt;
        tellRequester('expiring');
      }
    }
  }

  await close();
  await auditChain;
  await messageChain;
  await noticeChain;
  await condition(allHandlersFinished);
  return view;
}
