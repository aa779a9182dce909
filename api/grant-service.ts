// What the front doors (HTTP routes, the console, Slack) do with grants. Reads come from the grants
// read model, never from Temporal; every decision is evaluated with Cedar here, signed, and sent to
// the grant workflow, whose validators have the last word. Visibility is decided here once.
import { createHash } from 'node:crypto';
import { ulid } from 'ulid';
import type { FrontDoor } from '../common/assertion.js';
import type { AccessRefusedData, PrincipalRevokedAllData } from '../common/audit-event.js';
import type { ReviewOutcome, ReviewView } from '../common/breakglass-review.js';
import {
  GRANT_ID,
  type GrantListItem,
  type GrantStatus,
  type GrantView,
  type IssuedCredentials,
  type OnBehalfOf,
  type Principal,
  type PrincipalKind,
  type RevokeAllResult,
  type RoleView,
} from '../common/grant.js';
import {
  approveUpdate,
  cancelUpdate,
  denyUpdate,
  extendUpdate,
  issueCredentialsUpdate,
  nudgeUpdate,
  type ReviewTarget,
  revokeUpdate,
  type StepFunctionsTask,
} from '../common/grant-messages.js';
import { samePerson, workloadNameOf } from '../common/identity.js';
import { decideReviewUpdate, reviewWorkflowId } from '../common/review-messages.js';
import { checkFederationEndpoint, consoleSignInUrl } from '../integrations/aws.js';
import {
  type Command,
  type GrantClient,
  GrantCommandError,
  GrantStartPendingError,
} from '../platform/grant-client.js';
import { annotateGrant } from '../platform/telemetry.js';
import type { PolicyEngine } from '../policies/engine.js';
import { type AuditStore, decodeCursor, type GrantListFilter, type GrantPage } from '../store/index.js';
import { ApiError } from './errors.js';

export interface StartRequestInput {
  role: string;
  durationSeconds: number;
  reason: string;
  ticket?: string;
  /** A workload asking for a person (Cedar `actFor` must allow it). */
  onBehalfOf?: OnBehalfOf;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A grant id fixed by (caller, Idempotency-Key): a retried start finds the same workflow. */
function idempotentGrantId(sub: string, key: string): string {
  const digest = createHash('sha256').update(`${sub}\n${key}`).digest();
  let id = '';
  for (let i = 0; i < 26; i++) id += CROCKFORD[(digest[i] ?? 0) & 31];
  return `grant-${id}`;
}

const requestDigest = (input: StartRequestInput) =>
  createHash('sha256')
    .update(
      JSON.stringify([
        input.role,
        input.durationSeconds,
        input.reason,
        input.ticket ?? null,
        // Absent for people, so their digests are what they always were.
        ...(input.onBehalfOf ? [input.onBehalfOf.sub, input.onBehalfOf.email ?? null] : []),
      ]),
    )
    .digest('hex');

/** A decision's options: retries of one decision carry one update id; the door that took it. */
export interface DecisionOptions {
  updateId?: string;
  door?: FrontDoor;
}

/** A reviewer's decision on the post-hoc review of a break-glass grant. */
export interface ReviewDecision {
  outcome: ReviewOutcome;
  comment?: string;
  /** With a flag: revoke the grant too, if it is still active. */
  revoke?: boolean;
}

/** The actions a front door offers a principal on a grant. */
export interface OfferedActions {
  cancel: boolean;
  revoke: boolean;
  extend: boolean;
  /** Credentials, `credential_process` and console sign-in: the requester of an active grant. */
  credentials: boolean;
  /** What a review would decide: the request, or a pending extension. Absent: no review offered. */
  review?: ReviewTarget;
  /** Acknowledge or flag the open post-hoc review of this break-glass grant. */
  breakGlassReview?: true;
}

export interface ListRequest {
  status?: GrantStatus[];
  role?: string;
  requester?: string;
  requesterKind?: PrincipalKind;
  /** Only what waits for the caller's review. */
  awaitingMyReview?: boolean;
  from?: string;
  to?: string;
  limit: number;
  cursor?: string;
}

export class GrantService {
  constructor(
    private readonly deps: {
      grants: GrantClient;
      store: Pick<AuditStore, 'grants'>;
      engine: PolicyEngine;
      console: { federationEndpoint: string; destination: string };
    },
  ) {}

  /**
   * Starts a grant and answers with its first decision. Policy refusing is a 403 before anything
   * starts; the workflow re-checks. `created` is false for a retry that found its earlier grant.
   */
  async start(
    principal: Principal,
    input: StartRequestInput,
    opts: { idempotencyKey?: string; door?: FrontDoor; stepFunctions?: StepFunctionsTask } = {},
  ): Promise<{ view: GrantView; created: boolean; pending?: boolean }> {
    const { engine, store, grants } = this.deps;
    if (!engine.role(input.role)) {
      const refusal = new ApiError('unknown_role', `no role ${JSON.stringify(input.role)}`);
      await this.recordRefusal(principal, 'request', refusal, { roleId: input.role }, opts.door);
      throw refusal;
    }
    const digest = requestDigest(input);
    const grantId = opts.idempotencyKey
      ? idempotentGrantId(principal.sub, opts.idempotencyKey)
      : `grant-${ulid()}`;
    if (opts.idempotencyKey) {
      const earlier = await store.grants.getWithDigest(grantId);
      if (earlier) {
        if (earlier.requestDigest !== digest)
          throw new ApiError(
            'idempotency_conflict',
            'this Idempotency-Key was used with a different request',
          );
        return { view: earlier.view, created: false };
      }
    }
    const decision = engine.evaluateRequest(principal, input.role, {
      durationSeconds: input.durationSeconds,
      reason: input.reason,
      now: new Date(),
      ...(input.ticket !== undefined ? { ticket: input.ticket } : {}),
      ...(input.onBehalfOf ? { onBehalfOf: input.onBehalfOf } : {}),
    });
    if (!decision.allowed) {
      const refusal = new ApiError(
        'policy_denied',
        decision.reasons.join('; ') || 'policy does not allow this request',
      );
      await this.recordRefusal(
        principal,
        'request',
        refusal,
        {
          roleId: input.role,
          durationSeconds: input.durationSeconds,
          ...(input.onBehalfOf ? { onBehalfOf: input.onBehalfOf.sub } : {}),
        },
        opts.door,
      );
      throw refusal;
    }
    const request = {
      grantId,
      roleId: input.role,
      durationSeconds: input.durationSeconds,
      reason: input.reason,
      ...(input.ticket !== undefined ? { ticket: input.ticket } : {}),
      requestDigest: digest,
      ...(input.onBehalfOf ? { onBehalfOf: input.onBehalfOf } : {}),
      ...(opts.stepFunctions ? { stepFunctions: opts.stepFunctions } : {}),
    };
    try {
      const view = await grants.start(
        principal,
        { allowed: true, policyIds: decision.policyIds },
        request,
        opts.door,
      );
      return { view, created: true };
    } catch (err) {
      if (err instanceof GrantStartPendingError) {
        // Started, but the worker is slow: the caller gets the id now (202) and can follow it.
        return { view: acceptedView(principal, request), created: true, pending: true };
      }
      throw apiErrorOf(err);
    }
  }

  /** The grant if this principal may see it: its requester, an eligible reviewer, an auditor. Else 404. */
  async get(principal: Principal, id: string): Promise<GrantView> {
    if (!GRANT_ID.test(id)) throw new ApiError('not_found', 'no such grant');
    const view = await this.deps.store.grants.get(id);
    if (!view || !this.maySee(principal, view)) throw new ApiError('not_found', 'no such grant');
    annotateGrant({ grantId: view.id, role: view.role.id, outcome: view.status });
    return view;
  }

  private maySee(principal: Principal, view: GrantView): boolean {
    const { engine } = this.deps;
    return (
      view.requester.sub === principal.sub ||
      // Once a request escalates, its escalation group may see (and approve) it too.
      engine.mayApprove(principal, view.role.id, view.requester.sub, { escalated: escalated(view) })
        .allowed ||
      engine.mayAudit(principal)
    );
  }

  /** The roles this principal may request, with their limits and whether a request needs a ticket. */
  requestableRoles(principal: Principal): RoleView[] {
    const { engine } = this.deps;
    return engine.requestableRoles(principal).map((r) => ({
      id: r.id,
      description: r.description,
      arn: r.arn,
      account: r.account,
      maxDurationSeconds: r.maxDurationSeconds,
      maxTotalDurationSeconds: r.maxTotalDurationSeconds,
      approvalsRequired: r.approvalsRequired,
      autoApproveMaxSeconds: r.autoApproveMaxSeconds,
      breakGlass: r.breakGlass,
      ...(r.ticketPattern ? { ticketPattern: r.ticketPattern } : {}),
      ticketRequired: engine.ticketRequired(principal, r.id),
    }));
  }

  /**
   * What this principal may be offered on this grant, by the rules the workflow applies (it still
   * has the last word): a front door shows only these, and a forced one is refused all the same.
   */
  offeredActions(principal: Principal, view: GrantListItem): OfferedActions {
    const isRequester = view.requester.sub === principal.sub;
    const active = view.status === 'active';
    const approvedByMe = (approvals: { by: string }[]) => approvals.some((a) => a.by === principal.sub);
    let review: ReviewTarget | undefined;
    if (principal.kind !== 'workload' && !samePerson(principal, view.requester)) {
      const eligible = this.reviewVerdict(principal, view).allowed;
      if (eligible && view.status === 'pending' && !approvedByMe(view.approvals)) review = 'request';
      if (eligible && active && view.pendingExtension && !approvedByMe(view.pendingExtension.approvals))
        review = 'extension';
    }
    return {
      cancel: isRequester && view.status === 'pending',
      revoke: active && this.deps.engine.mayRevoke(principal, view.role.id, view.requester.sub).allowed,
      extend: isRequester && active && !view.pendingExtension,
      credentials: isRequester && active,
      ...(review ? { review } : {}),
      ...(this.mayDecideReview(principal, view) ? { breakGlassReview: true as const } : {}),
    };
  }

  /** Roles whose grants this principal reviews (eligible to approve someone else's request). */
  reviewedRoles(principal: Principal): string[] {
    const { engine } = this.deps;
    if (principal.kind === 'workload') return [];
    return engine
      .roles()
      .filter((r) => engine.mayApprove(principal, r.id, '\u0000nobody').allowed)
      .map((r) => r.id);
  }

  /** Own grants; reviewers also those of roles they review; auditors all. Newest first, paged. */
  async list(principal: Principal, req: ListRequest): Promise<GrantPage> {
    const page = await this.query(principal, req, (filter, limit, cursor) =>
      this.deps.store.grants.list(filter, limit, cursor),
    );
    if (!req.awaitingMyReview) return page;
    // The queue leaves out requests by the same person under another account (same email).
    return { ...page, items: page.items.filter((item) => !samePerson(principal, item.requester)) };
  }

  /** `list` with whole grant views (sessions, timeline), for exports; same visibility. */
  listViews(principal: Principal, req: Omit<ListRequest, 'awaitingMyReview'>): Promise<GrantPage<GrantView>> {
    return this.query(principal, req, (filter, limit, cursor) =>
      this.deps.store.grants.listViews(filter, limit, cursor),
    );
  }

  private query<Page>(
    principal: Principal,
    req: ListRequest,
    read: (
      filter: GrantListFilter,
      limit: number,
      cursor?: { createdAt: string; id: string },
    ) => Promise<Page>,
  ): Promise<Page> {
    const cursor = req.cursor === undefined ? undefined : decodeCursor(req.cursor);
    if (req.cursor !== undefined && !cursor) throw new ApiError('invalid_argument', 'cursor is not valid');
    const reviewedRoles = this.reviewedRoles(principal);
    return read(
      {
        ...(req.status ? { status: req.status } : {}),
        ...(req.role !== undefined ? { roleId: req.role } : {}),
        ...(req.requester !== undefined ? { requester: req.requester } : {}),
        ...(req.requesterKind !== undefined ? { requesterKind: req.requesterKind } : {}),
        ...(req.from !== undefined ? { createdFrom: req.from } : {}),
        ...(req.to !== undefined ? { createdTo: req.to } : {}),
        ...(req.awaitingMyReview ? { awaitingReviewBy: { sub: principal.sub, roles: reviewedRoles } } : {}),
        visibleTo: this.deps.engine.mayAudit(principal) ? 'all' : { sub: principal.sub, reviewedRoles },
      },
      req.limit,
      cursor,
    );
  }

  /** The review verdict Cedar gives this principal on this grant. */
  private reviewVerdict(principal: Principal, view: GrantListItem) {
    const decision = this.deps.engine.mayApprove(principal, view.role.id, view.requester.sub, factsOf(view));
    return { allowed: decision.allowed, policyIds: decision.policyIds };
  }

  /** The verdict on deciding the post-hoc review of this break-glass grant. */
  private breakGlassReviewVerdict(principal: Principal, view: GrantListItem) {
    const decision = this.deps.engine.mayReview(principal, view.role.id, view.requester.sub, factsOf(view));
    return { allowed: decision.allowed, policyIds: decision.policyIds };
  }

  /** A break-glass grant's view as the read model has it: the grant's own answer lacks its review. */
  private async withReview(view: GrantView): Promise<GrantView> {
    if (!view.breakGlass) return view;
    return (await this.deps.store.grants.get(view.id)) ?? view;
  }

  private send<Ret, Args extends object>(
    update: Parameters<GrantClient['send']>[0],
    command: Command<Args>,
  ): Promise<Ret> {
    return (this.deps.grants.send(update as never, command) as Promise<Ret>).catch((err: unknown) => {
      throw apiErrorOf(err);
    });
  }

  async approve(
    principal: Principal,
    id: string,
    comment: string | undefined,
    opts: DecisionOptions & { target?: ReviewTarget } = {},
  ): Promise<GrantView> {
    await this.refuseWorkloadReviewer(principal, 'approve', id, opts.door);
    const view = await this.get(principal, id);
    return this.send<GrantView, { comment?: string; target?: ReviewTarget }>(approveUpdate, {
      grantId: id,
      action: 'approve',
      principal,
      verdict: this.reviewVerdict(principal, view),
      args: { ...(comment ? { comment } : {}), ...(opts.target ? { target: opts.target } : {}) },
      ...commandOptions(opts),
    });
  }

  async deny(
    principal: Principal,
    id: string,
    reason: string,
    opts: DecisionOptions & { target?: ReviewTarget } = {},
  ): Promise<GrantView> {
    await this.refuseWorkloadReviewer(principal, 'deny', id, opts.door);
    const view = await this.get(principal, id);
    return this.send<GrantView, { reason: string; target?: ReviewTarget }>(denyUpdate, {
      grantId: id,
      action: 'deny',
      principal,
      verdict: this.reviewVerdict(principal, view),
      args: { reason, ...(opts.target ? { target: opts.target } : {}) },
      ...commandOptions(opts),
    });
  }

  /**
   * What a review by this principal would get, before asking them for a reason (Slack's deny
   * modal): the same rules the workflow applies, from the read model.
   */
  async assertMayReview(principal: Principal, id: string): Promise<GrantView> {
    await this.refuseWorkloadReviewer(principal, 'approve', id, 'slack');
    const view = await this.get(principal, id);
    if (samePerson(principal, view.requester) || (view.onBehalfOf && samePerson(principal, view.onBehalfOf)))
      throw new ApiError('self_approval', 'you cannot review your own request');
    if (!this.reviewVerdict(principal, view).allowed)
      throw new ApiError('not_eligible', 'you are not an eligible reviewer for this role');
    if (view.status !== 'pending') throw new ApiError('already_decided', `grant is ${view.status}`);
    return view;
  }

  async cancel(principal: Principal, id: string, opts: DecisionOptions = {}): Promise<GrantView> {
    const view = await this.get(principal, id);
    return this.send<GrantView, object>(cancelUpdate, {
      grantId: id,
      action: 'cancel',
      principal,
      // Only the requester withdraws a request this way; the kill switch signs its own verdict.
      verdict: { allowed: view.requester.sub === principal.sub, policyIds: [] },
      args: {},
      ...commandOptions(opts),
    });
  }

  /**
   * The kill switch: every active grant of `targetSub` revoked and every pending one cancelled,
   * each by a signed decision, after one audit event for the kill itself. Grants started while it
   * runs are caught by a second pass. Who may: Cedar `revokeAll`.
   */
  async revokeAll(
    principal: Principal,
    targetSub: string,
    reason: string,
    opts: { door?: FrontDoor } = {},
  ): Promise<RevokeAllResult> {
    const { engine, grants } = this.deps;
    const decision = engine.mayRevokeAll(principal, targetSub);
    if (!decision.allowed)
      throw new ApiError('forbidden', 'policy does not let you revoke everything of a principal');
    const verdict = { allowed: true, policyIds: decision.policyIds };
    const id = `revoke-all-${ulid()}`;
    const result: RevokeAllResult = { id, principal: targetSub, revoked: [], cancelled: [], failed: [] };
    const why = `kill switch ${id}: ${reason}`;
    const settled = new Set<string>();
    for (let pass = 0; pass < 3; pass++) {
      const open = await this.openGrantsOf(targetSub);
      const todo = open.filter((g) => !settled.has(g.id));
      if (todo.length === 0 && pass > 0) break;
      const revoke = todo.filter((g) => g.status === 'active').map((g) => g.id);
      const cancel = todo.filter((g) => g.status === 'pending').map((g) => g.id);
      if (pass === 0) {
        const data: Omit<PrincipalRevokedAllData, 'actorKind'> = {
          target: targetSub,
          targetKind: workloadNameOf(targetSub) ? 'workload' : 'person',
          reason,
          revoke,
          cancel,
          policyIds: decision.policyIds,
        };
        await grants
          .recordDoorEvent(
            principal,
            'revokeAll',
            verdict,
            { id, type: 'principal.revoked_all', subject: targetSub, roleId: '', data },
            opts.door,
          )
          .catch((err: unknown) => {
            throw apiErrorOf(err);
          });
      }
      for (const grantId of [...revoke, ...cancel]) {
        settled.add(grantId);
        const revoking = revoke.includes(grantId);
        const command = {
          grantId,
          action: revoking ? ('revoke' as const) : ('cancel' as const),
          principal,
          verdict,
          updateId: `${id}:${grantId}`,
          args: { reason: why },
          ...(opts.door ? { door: opts.door } : {}),
        };
        try {
          if (revoking) await grants.send(revokeUpdate, command);
          else await grants.send<GrantView, { reason?: string }>(cancelUpdate, command);
          (revoking ? result.revoked : result.cancelled).push(grantId);
        } catch (err) {
          const code = err instanceof GrantCommandError ? err.code : 'internal';
          // Ended meanwhile (expired, denied, cancelled): nothing left to take.
          if (code === 'grant_not_active' || code === 'grant_not_pending' || code === 'already_decided')
            continue;
          result.failed.push({ id: grantId, code, message: (err as Error).message });
        }
      }
    }
    return result;
  }

  /** Workloads never review access: refused (and recorded) before anything is read. */
  private async refuseWorkloadReviewer(
    principal: Principal,
    action: 'approve' | 'deny',
    grantId: string,
    door?: FrontDoor,
  ): Promise<void> {
    if (principal.kind !== 'workload') return;
    const refusal = new ApiError('not_eligible', 'workloads never review access');
    await this.recordRefusal(principal, action, refusal, { roleId: '', grant: grantId.slice(0, 64) }, door);
    throw refusal;
  }

  /**
   * A workload's refused request or review goes to the audit trail (`access.refused`), so auditors
   * see what a pipeline or agent tried. Best effort: the refusal stands if recording fails.
   */
  private async recordRefusal(
    principal: Principal,
    action: 'request' | 'approve' | 'deny',
    refusal: ApiError,
    facts: { roleId: string; grant?: string; durationSeconds?: number; onBehalfOf?: string },
    door?: FrontDoor,
  ): Promise<void> {
    if (principal.kind !== 'workload') return;
    const { roleId, ...rest } = facts;
    const data: AccessRefusedData = { action, code: refusal.code, reason: refusal.message, ...rest };
    await this.deps.grants
      .recordDoorEvent(
        principal,
        action,
        { allowed: false, policyIds: [] },
        {
          id: `refused-${ulid()}`,
          type: 'access.refused',
          subject: principal.sub,
          roleId: roleId.slice(0, 64),
          data: { ...data },
        },
        door,
      )
      .catch(() => undefined);
  }

  /** Pending and active grants of one requester, from the read model. */
  private async openGrantsOf(sub: string): Promise<{ id: string; status: GrantStatus }[]> {
    const out: { id: string; status: GrantStatus }[] = [];
    let cursor: { createdAt: string; id: string } | undefined;
    for (;;) {
      const page = await this.deps.store.grants.list(
        { requester: sub, status: ['pending', 'active'], visibleTo: 'all' },
        500,
        cursor,
      );
      out.push(...page.items.map((g) => ({ id: g.id, status: g.status })));
      if (!page.nextCursor) return out;
      cursor = decodeCursor(page.nextCursor);
    }
  }

  async revoke(
    principal: Principal,
    id: string,
    reason: string,
    opts: DecisionOptions = {},
  ): Promise<GrantView> {
    const view = await this.get(principal, id);
    const decision = this.deps.engine.mayRevoke(principal, view.role.id, view.requester.sub);
    const revoked = await this.send<GrantView, { reason: string }>(revokeUpdate, {
      grantId: id,
      action: 'revoke',
      principal,
      verdict: { allowed: decision.allowed, policyIds: decision.policyIds },
      args: { reason },
      ...commandOptions(opts),
    });
    return this.withReview(revoked);
  }

  /**
   * Decides the post-hoc review of a break-glass grant (the review workflow checks the rules: an
   * eligible reviewer, never the person who used the access, a comment to flag). A flag that asks
   * for it then revokes the grant, signed as this reviewer, if the grant is still active.
   */
  async review(
    principal: Principal,
    id: string,
    decision: ReviewDecision,
    opts: DecisionOptions = {},
  ): Promise<GrantView> {
    const view = await this.get(principal, id);
    if (!view.review) {
      throw new ApiError(
        'no_review',
        view.breakGlass
          ? 'the review of this grant has not opened yet; try again shortly'
          : 'only break-glass grants have a post-hoc review',
      );
    }
    const revoking = decision.outcome === 'flagged' && decision.revoke === true;
    if (revoking && !this.deps.engine.mayRevoke(principal, view.role.id, view.requester.sub).allowed)
      throw new ApiError('not_eligible', 'you may not revoke this grant; flag it without revoking');
    const comment = decision.comment?.trim();
    await this.send<ReviewView, ReviewDecision>(decideReviewUpdate, {
      grantId: id,
      workflowId: reviewWorkflowId(id),
      action: 'review',
      principal,
      verdict: this.breakGlassReviewVerdict(principal, view),
      args: {
        outcome: decision.outcome,
        ...(comment ? { comment } : {}),
        ...(revoking ? { revoke: true } : {}),
      },
      ...commandOptions(opts),
    });
    if (revoking) {
      await this.revoke(principal, id, `flagged in the post-hoc review: ${comment ?? ''}`, {
        ...(opts.updateId ? { updateId: `${opts.updateId}:revoke` } : {}),
        ...(opts.door ? { door: opts.door } : {}),
      }).catch((err: unknown) => {
        // Ended meanwhile: nothing left to revoke; the flag stands.
        if (!(err instanceof ApiError && (err.code === 'grant_not_active' || err.code === 'already_decided')))
          throw err;
      });
    }
    return this.get(principal, id);
  }

  /** What a review decision by this principal would get, before asking them why (Slack's flag modal). */
  async assertMayDecideReview(principal: Principal, id: string): Promise<GrantView> {
    const view = await this.get(principal, id);
    const refusal = this.reviewRefusal(principal, view);
    if (refusal) throw refusal;
    return view;
  }

  /** Whether this principal may decide this grant's open post-hoc review (a list row will do). */
  mayDecideReview(principal: Principal, view: GrantListItem): boolean {
    return this.reviewRefusal(principal, view) === undefined;
  }

  /** Why this principal may not decide this grant's post-hoc review now; undefined if they may. */
  private reviewRefusal(principal: Principal, view: GrantListItem): ApiError | undefined {
    if (!view.review) return new ApiError('no_review', 'only break-glass grants have a post-hoc review');
    if (principal.kind === 'workload') return new ApiError('not_eligible', 'workloads never review access');
    if (samePerson(principal, view.requester))
      return new ApiError('self_approval', 'you cannot review your own break-glass access');
    if (!this.breakGlassReviewVerdict(principal, view).allowed)
      return new ApiError('not_eligible', 'you are not a reviewer of this role');
    if (view.review.status !== 'open') return new ApiError('review_closed', 'the review was already decided');
    return undefined;
  }

  /** The requester reminds the reviewers of a pending request (the workflow rate-limits it). */
  async nudge(principal: Principal, id: string, opts: DecisionOptions = {}): Promise<GrantView> {
    await this.get(principal, id);
    return this.send<GrantView, object>(nudgeUpdate, {
      grantId: id,
      action: 'nudge',
      principal,
      verdict: { allowed: true, policyIds: [] },
      args: {},
      ...commandOptions(opts),
    });
  }

  async extend(
    principal: Principal,
    id: string,
    durationSeconds: number,
    reason: string,
    opts: DecisionOptions = {},
  ): Promise<GrantView> {
    const view = await this.get(principal, id);
    const decision = this.deps.engine.evaluateRequest(principal, view.role.id, {
      durationSeconds,
      reason,
      now: new Date(),
      alreadyGrantedSeconds: view.duration,
      ...(view.ticket ? { ticket: view.ticket } : {}),
    });
    const extended = await this.send<GrantView, { durationSeconds: number; reason: string }>(extendUpdate, {
      grantId: id,
      action: 'extend',
      principal,
      // The workflow checks the cap first (naming it) and evaluates policy again, recorded.
      verdict: { allowed: decision.allowed, policyIds: decision.policyIds },
      args: { durationSeconds, reason },
      ...commandOptions(opts),
    });
    return this.withReview(extended);
  }

  /** One STS session per (caller, update id): a retry with the same key gets the same credentials. */
  async credentials(
    principal: Principal,
    id: string,
    opts: DecisionOptions = {},
  ): Promise<IssuedCredentials> {
    await this.get(principal, id);
    const issued = await this.send<IssuedCredentials, object>(issueCredentialsUpdate, {
      grantId: id,
      action: 'issueCredentials',
      principal,
      verdict: { allowed: true, policyIds: [] },
      args: {},
      ...commandOptions(opts),
    });
    annotateGrant({ outcome: 'credentials_issued' });
    return issued;
  }

  /** Fresh credentials for the grant, exchanged for a console sign-in URL valid until they expire. */
  async console(
    principal: Principal,
    id: string,
    opts: DecisionOptions = {},
  ): Promise<{ url: string; expiresAt: string }> {
    await this.get(principal, id);
    // No credentials are minted for a sign-in URL that cannot be built.
    await checkFederationEndpoint(this.deps.console.federationEndpoint).catch((err: Error) => {
      throw new ApiError('federation_failed', `console sign-in is unavailable: ${err.message}`);
    });
    const creds = await this.credentials(principal, id, opts);
    const url = await consoleSignInUrl({
      federationEndpoint: this.deps.console.federationEndpoint,
      destination: this.deps.console.destination,
      issuer: 'jit-broker',
      credentials: {
        accessKeyId: creds.AccessKeyId,
        secretAccessKey: creds.SecretAccessKey,
        sessionToken: creds.SessionToken,
      },
    }).catch((err: Error) => {
      throw new ApiError('federation_failed', `console sign-in failed: ${err.message}`);
    });
    return { url, expiresAt: creds.Expiration };
  }
}

/** What Cedar knows about a grant when someone acts on it. */
const escalated = (view: GrantListItem) => view.followUp?.escalatedAt !== undefined;
const factsOf = (view: GrantListItem) => ({
  durationSeconds: view.duration,
  reason: view.reason,
  breakGlass: view.breakGlass,
  ...(view.ticket ? { ticket: view.ticket } : {}),
  escalated: escalated(view),
});

const commandOptions = (opts: DecisionOptions) => ({
  ...(opts.updateId ? { updateId: opts.updateId } : {}),
  ...(opts.door ? { door: opts.door } : {}),
});

function apiErrorOf(err: unknown): unknown {
  if (!(err instanceof GrantCommandError)) return err;
  if (err.code === 'grant_not_found') return new ApiError('not_found', 'no such grant');
  return new ApiError(err.code, err.message);
}

/** What a 202 for a start still waiting on its decision shows: the request as accepted. */
function acceptedView(
  principal: Principal,
  request: { grantId: string; roleId: string; durationSeconds: number; reason: string; ticket?: string },
): GrantView {
  return {
    id: request.grantId,
    status: 'pending',
    requester: {
      sub: principal.sub,
      ...(principal.email ? { email: principal.email } : {}),
      ...(principal.kind === 'workload' ? { kind: 'workload' as const } : {}),
    },
    role: { id: request.roleId },
    duration: request.durationSeconds,
    reason: request.reason,
    ...(request.ticket ? { ticket: request.ticket } : {}),
    breakGlass: false,
    approvals: [],
    requiredApprovals: 0,
    createdAt: new Date().toISOString(),
    sessions: [],
    policyIds: [],
    timeline: [],
  };
}
