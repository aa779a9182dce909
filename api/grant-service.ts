// What the front doors (HTTP routes, the console, Slack) do with grants. Reads come from the grants
// read model, never from Temporal; every decision is evaluated with Cedar here, signed, and sent to
// the grant workflow, whose validators have the last word. Visibility is decided here once.
import { createHash } from 'node:crypto';
import { ulid } from 'ulid';
import type { FrontDoor } from '../common/assertion.js';
import {
  GRANT_ID,
  type GrantStatus,
  type GrantView,
  type IssuedCredentials,
  type Principal,
  type RoleView,
} from '../common/grant.js';
import {
  approveUpdate,
  cancelUpdate,
  denyUpdate,
  extendUpdate,
  issueCredentialsUpdate,
  type ReviewTarget,
  revokeUpdate,
} from '../common/grant-messages.js';
import { samePerson } from '../common/identity.js';
import { checkFederationEndpoint, consoleSignInUrl } from '../integrations/aws.js';
import {
  type Command,
  type GrantClient,
  GrantCommandError,
  GrantStartPendingError,
} from '../platform/grant-client.js';
import type { PolicyEngine } from '../policies/engine.js';
import { type AuditStore, decodeCursor, type GrantListFilter, type GrantPage } from '../store/index.js';
import { ApiError } from './errors.js';

export interface StartRequestInput {
  role: string;
  durationSeconds: number;
  reason: string;
  ticket?: string;
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
    .update(JSON.stringify([input.role, input.durationSeconds, input.reason, input.ticket ?? null]))
    .digest('hex');

/** A decision's options: retries of one decision carry one update id; the door that took it. */
export interface DecisionOptions {
  updateId?: string;
  door?: FrontDoor;
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
}

export interface ListRequest {
  status?: GrantStatus[];
  role?: string;
  requester?: string;
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
    opts: { idempotencyKey?: string; door?: FrontDoor } = {},
  ): Promise<{ view: GrantView; created: boolean; pending?: boolean }> {
    const { engine, store, grants } = this.deps;
    if (!engine.role(input.role)) throw new ApiError('unknown_role', `no role ${JSON.stringify(input.role)}`);
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
    });
    if (!decision.allowed)
      throw new ApiError(
        'policy_denied',
        decision.reasons.join('; ') || 'policy does not allow this request',
      );
    const request = {
      grantId,
      roleId: input.role,
      durationSeconds: input.durationSeconds,
      reason: input.reason,
      ...(input.ticket !== undefined ? { ticket: input.ticket } : {}),
      requestDigest: digest,
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
    return view;
  }

  private maySee(principal: Principal, view: GrantView): boolean {
    const { engine } = this.deps;
    return (
      view.requester.sub === principal.sub ||
      engine.mayApprove(principal, view.role.id, view.requester.sub).allowed ||
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
  offeredActions(principal: Principal, view: GrantView): OfferedActions {
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
  private reviewVerdict(principal: Principal, view: GrantView) {
    const decision = this.deps.engine.mayApprove(principal, view.role.id, view.requester.sub, {
      durationSeconds: view.duration,
      reason: view.reason,
      breakGlass: view.breakGlass,
      ...(view.ticket ? { ticket: view.ticket } : {}),
    });
    return { allowed: decision.allowed, policyIds: decision.policyIds };
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
    const view = await this.get(principal, id);
    if (principal.kind === 'workload') throw new ApiError('not_eligible', 'workloads never review access');
    if (samePerson(principal, view.requester))
      throw new ApiError('self_approval', 'you cannot review your own request');
    if (!this.reviewVerdict(principal, view).allowed)
      throw new ApiError('not_eligible', 'you are not an eligible reviewer for this role');
    if (view.status !== 'pending') throw new ApiError('already_decided', `grant is ${view.status}`);
    return view;
  }

  async cancel(principal: Principal, id: string, opts: DecisionOptions = {}): Promise<GrantView> {
    await this.get(principal, id);
    return this.send<GrantView, object>(cancelUpdate, {
      grantId: id,
      action: 'cancel',
      principal,
      verdict: { allowed: true, policyIds: [] },
      args: {},
      ...commandOptions(opts),
    });
  }

  async revoke(
    principal: Principal,
    id: string,
    reason: string,
    opts: DecisionOptions = {},
  ): Promise<GrantView> {
    const view = await this.get(principal, id);
    const decision = this.deps.engine.mayRevoke(principal, view.role.id, view.requester.sub);
    return this.send<GrantView, { reason: string }>(revokeUpdate, {
      grantId: id,
      action: 'revoke',
      principal,
      verdict: { allowed: decision.allowed, policyIds: decision.policyIds },
      args: { reason },
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
    return this.send<GrantView, { durationSeconds: number; reason: string }>(extendUpdate, {
      grantId: id,
      action: 'extend',
      principal,
      // The workflow checks the cap first (naming it) and evaluates policy again, recorded.
      verdict: { allowed: decision.allowed, policyIds: decision.policyIds },
      args: { durationSeconds, reason },
      ...commandOptions(opts),
    });
  }

  /** One STS session per (caller, update id): a retry with the same key gets the same credentials. */
  async credentials(
    principal: Principal,
    id: string,
    opts: DecisionOptions = {},
  ): Promise<IssuedCredentials> {
    await this.get(principal, id);
    return this.send<IssuedCredentials, object>(issueCredentialsUpdate, {
      grantId: id,
      action: 'issueCredentials',
      principal,
      verdict: { allowed: true, policyIds: [] },
      args: {},
      ...commandOptions(opts),
    });
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
    requester: { sub: principal.sub, ...(principal.email ? { email: principal.email } : {}) },
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
