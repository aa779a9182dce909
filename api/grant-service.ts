// What the routes do with grants: start, find, list and decide, with visibility and policy checked
// here once for every route. Talks to Temporal only through the client and the shared messages.
import { createHash, randomUUID } from 'node:crypto';
import { type Client, WorkflowExecutionAlreadyStartedError, type WorkflowHandle } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { ulid } from 'ulid';
import { consoleSignInUrl } from '../activities/aws.js';
import type { GrantRequest, GrantSummary, GrantView, IssuedCredentials, Principal } from '../common/grant.js';
import { executeGrantUpdate, GrantRejectedError } from '../common/grant-client.js';
import {
  approveUpdate,
  cancelUpdate,
  denyUpdate,
  extendUpdate,
  grantViewQuery,
  grantWorkflowType,
  issueCredentialsUpdate,
  type ReviewTarget,
  revokeUpdate,
} from '../common/grant-messages.js';
import { JitExpiresAt, JitRequester, JitRole, JitStatus } from '../common/search-attributes.js';
import type { PolicyEngine } from '../policies/engine.js';
import { ApiError } from './errors.js';

export interface StartRequestInput {
  role: string;
  durationSeconds: number;
  reason: string;
  ticket?: string;
}

// Grant ids are `grant-` + 26 Crockford base32 characters (a ULID, or a digest for idempotent starts).
export const GRANT_ID = /^grant-[0-9A-HJKMNP-TV-Z]{26}$/;
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A grant id fixed by (caller, Idempotency-Key): a retried start finds the same workflow. */
function idempotentGrantId(sub: string, key: string): string {
  const digest = createHash('sha256').update(`${sub}\n${key}`).digest();
  let id = '';
  for (let i = 0; i < 26; i++) id += CROCKFORD[(digest[i] ?? 0) & 31];
  return `grant-${id}`;
}

const bodyDigest = (input: StartRequestInput) =>
  createHash('sha256')
    .update(JSON.stringify([input.role, input.durationSeconds, input.reason, input.ticket ?? null]))
    .digest('hex');

/**
 * The workflow refuses a reviewer with the requester's sub; this also refuses one with the
 * requester's email, in case a directory (Slack) and the IdP's tokens disagree on the sub.
 */
function refuseSelfReview(principal: Principal, view: GrantView): void {
  const sameEmail =
    principal.email !== undefined && view.requester.email?.toLowerCase() === principal.email.toLowerCase();
  if (view.requester.sub === principal.sub || sameEmail)
    throw new ApiError('self_approval', 'you cannot review your own request');
}

export class GrantService {
  constructor(
    private readonly deps: {
      client: Client;
      engine: PolicyEngine;
      taskQueue: string;
      console: { federationEndpoint: string; destination: string };
    },
  ) {}

  /** Refuses up front what policy refuses, so a bad request starts nothing; the workflow re-checks. */
  async start(
    principal: Principal,
    input: StartRequestInput,
    idempotencyKey?: string,
  ): Promise<{ view: GrantView; created: boolean }> {
    const { engine, client, taskQueue } = this.deps;
    if (!engine.role(input.role)) throw new ApiError('unknown_role', `no role ${JSON.stringify(input.role)}`);
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

    const grantId = idempotencyKey ? idempotentGrantId(principal.sub, idempotencyKey) : `grant-${ulid()}`;
    const digest = bodyDigest(input);
    const request: GrantRequest = {
      grantId,
      requester: principal,
      roleId: input.role,
      durationSeconds: input.durationSeconds,
      reason: input.reason,
      ...(input.ticket !== undefined ? { ticket: input.ticket } : {}),
    };
    try {
      const handle = await client.workflow.start(grantWorkflowType, {
        taskQueue,
        workflowId: grantId,
        args: [request],
        memo: { requestDigest: digest },
        // An ended grant keeps its id: a late retry finds it instead of starting it again.
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: [
          { key: JitStatus, value: 'pending' },
          { key: JitRole, value: input.role },
          { key: JitRequester, value: principal.sub },
        ],
      });
      return { view: await this.settledView(handle), created: true };
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      const handle = client.workflow.getHandle(grantId);
      const { memo } = await handle.describe();
      if (memo?.requestDigest !== digest) {
        throw new ApiError('idempotency_conflict', 'this Idempotency-Key was used with a different request');
      }
      return { view: await handle.query(grantViewQuery), created: false };
    }
  }

  /** The view once the policy decision is in, so the caller sees pending/active rather than a blank. */
  private async settledView(handle: WorkflowHandle): Promise<GrantView> {
    for (let attempt = 0; ; attempt++) {
      const view = await handle.query(grantViewQuery);
      if (view.status !== 'pending' || view.policyIds.length > 0 || attempt >= 50) return view;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The grant if this principal may see it: its requester, an eligible reviewer, an auditor. Else 404. */
  async get(principal: Principal, id: string): Promise<{ view: GrantView; handle: WorkflowHandle }> {
    if (!GRANT_ID.test(id)) throw new ApiError('not_found', 'no such grant');
    const handle = this.deps.client.workflow.getHandle(id);
    let view: GrantView;
    try {
      view = await handle.query(grantViewQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new ApiError('not_found', 'no such grant');
      throw err;
    }
    if (!this.maySee(principal, view)) throw new ApiError('not_found', 'no such grant');
    return { view, handle };
  }

  private maySee(principal: Principal, view: GrantView): boolean {
    const { engine } = this.deps;
    return (
      view.requester.sub === principal.sub ||
      engine.mayApprove(principal, view.role.id, view.requester.sub).allowed ||
      engine.mayAudit(principal)
    );
  }

  /** Roles whose grants this principal reviews (eligible to approve someone else's request). */
  private reviewedRoles(principal: Principal): string[] {
    const { engine } = this.deps;
    return engine
      .roles()
      .filter((r) => engine.mayApprove(principal, r.id, '\u0000nobody').allowed)
      .map((r) => r.id);
  }

  async list(
    principal: Principal,
    filter: { status?: string; role?: string; limit: number },
  ): Promise<GrantSummary[]> {
    const quote = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
    // This broker's grants: another broker (or test) may share the namespace.
    const clauses = [
      `WorkflowType = ${quote(grantWorkflowType)}`,
      `TaskQueue = ${quote(this.deps.taskQueue)}`,
    ];
    if (filter.status) clauses.push(`JitStatus = ${quote(filter.status)}`);
    if (filter.role) clauses.push(`JitRole = ${quote(filter.role)}`);
    if (!this.deps.engine.mayAudit(principal)) {
      const reviewed = this.reviewedRoles(principal);
      const mine = `JitRequester = ${quote(principal.sub)}`;
      clauses.push(
        reviewed.length > 0 ? `(${mine} OR JitRole IN (${reviewed.map(quote).join(', ')}))` : mine,
      );
    }
    const out: GrantSummary[] = [];
    for await (const wf of this.deps.client.workflow.list({ query: clauses.join(' AND ') })) {
      const attrs = wf.typedSearchAttributes;
      const expiresAt = attrs.get(JitExpiresAt);
      out.push({
        id: wf.workflowId,
        status: attrs.get(JitStatus) ?? 'pending',
        role: attrs.get(JitRole) ?? '',
        requester: attrs.get(JitRequester) ?? '',
        createdAt: wf.startTime.toISOString(),
        ...(expiresAt ? { expiresAt: expiresAt.toISOString() } : {}),
      });
      if (out.length >= filter.limit) break;
    }
    return out;
  }

  async approve(
    principal: Principal,
    id: string,
    comment: string | undefined,
    updateId?: string,
    target?: ReviewTarget,
  ): Promise<GrantView> {
    const { view, handle } = await this.get(principal, id);
    refuseSelfReview(principal, view);
    const authorization = this.deps.engine.mayApprove(principal, view.role.id, view.requester.sub);
    return this.decide(() =>
      executeGrantUpdate(
        handle,
        approveUpdate,
        { by: principal, authorization, ...(comment ? { comment } : {}), ...(target ? { target } : {}) },
        updateId,
      ),
    );
  }

  /** Throws what a decision by this principal would get (self-review, not eligible, decided); else the view. */
  async assertMayReview(principal: Principal, id: string): Promise<GrantView> {
    const { view } = await this.get(principal, id);
    refuseSelfReview(principal, view);
    if (!this.deps.engine.mayApprove(principal, view.role.id, view.requester.sub).allowed)
      throw new ApiError('not_eligible', 'you are not an eligible reviewer for this role');
    if (view.status !== 'pending') throw new ApiError('already_decided', `grant is ${view.status}`);
    return view;
  }

  async deny(
    principal: Principal,
    id: string,
    reason: string,
    updateId?: string,
    target?: ReviewTarget,
  ): Promise<GrantView> {
    const { view, handle } = await this.get(principal, id);
    refuseSelfReview(principal, view);
    const authorization = this.deps.engine.mayApprove(principal, view.role.id, view.requester.sub);
    return this.decide(() =>
      executeGrantUpdate(
        handle,
        denyUpdate,
        { by: principal, reason, authorization, ...(target ? { target } : {}) },
        updateId,
      ),
    );
  }

  async cancel(principal: Principal, id: string, updateId?: string): Promise<GrantView> {
    const { handle } = await this.get(principal, id);
    return this.decide(() => executeGrantUpdate(handle, cancelUpdate, { by: principal }, updateId));
  }

  async revoke(principal: Principal, id: string, reason: string, updateId?: string): Promise<GrantView> {
    const { view, handle } = await this.get(principal, id);
    const authorization = this.deps.engine.mayRevoke(principal, view.role.id, view.requester.sub);
    return this.decide(() =>
      executeGrantUpdate(handle, revokeUpdate, { by: principal, reason, authorization }, updateId),
    );
  }

  async extend(
    principal: Principal,
    id: string,
    durationSeconds: number,
    reason: string,
    updateId?: string,
  ): Promise<GrantView> {
    const { handle } = await this.get(principal, id);
    return this.decide(() =>
      executeGrantUpdate(handle, extendUpdate, { by: principal, durationSeconds, reason }, updateId),
    );
  }

  async credentials(principal: Principal, id: string, updateId?: string): Promise<IssuedCredentials> {
    const { handle } = await this.get(principal, id);
    return this.decide(() =>
      executeGrantUpdate(handle, issueCredentialsUpdate, { by: principal }, updateId ?? randomUUID()),
    );
  }

  /** Fresh credentials for the grant, exchanged for a console sign-in URL valid until they expire. */
  async console(principal: Principal, id: string): Promise<{ url: string; expiresAt: string }> {
    const creds = await this.credentials(principal, id);
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

  private async decide<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (err instanceof GrantRejectedError) throw ApiError.fromRejection(err.code, err.message);
      throw err;
    }
  }
}
