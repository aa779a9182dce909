// A grant's state and its transitions, in one place. Every transition goes through `record()`,
// which folds the event into the view (common/grant-projection.ts, the rule the read model uses
// too) and queues it for the audit trail; queued events are flushed in batches, in order.
import { ApplicationFailure, condition, upsertSearchAttributes } from '@temporalio/workflow';
import type { PolicyOutcome } from '../../common/activities.js';
import type { AssertionClaims } from '../../common/assertion.js';
import {
  type ActorKind,
  type AuditEventInput,
  endEventType,
  type GrantEventData,
} from '../../common/audit-event.js';
import type { EndedStatus, GrantStatus, GrantView, Principal, RoleSnapshot } from '../../common/grant.js';
import type { GrantRejection, GrantRequestFields } from '../../common/grant-messages.js';
import { projectGrant } from '../../common/grant-projection.js';
import type { RequestDecision } from '../../common/policy-decision.js';
import { JitExpiresAt, JitRequester, JitRole, JitStatus } from '../../common/search-attributes.js';
import { recordAuditEvents } from './activities.js';

/** A session as the workflow keeps it: what the ledger needs to deny it. */
export interface IssuedSession {
  sessionName: string;
  expiresAt: string;
  assumedRoleId: string;
}

export interface Ending {
  status: EndedStatus;
  reason: string;
  by: string;
  byEmail?: string;
  byKind: ActorKind;
}

/** Who records a transition: a person or workload the front door authenticated, or the broker itself. */
export type Actor =
  | { sub: string; email?: string | undefined; kind?: 'person' | 'workload' | undefined }
  | 'system';

export const reject = (code: GrantRejection, message: string): never => {
  throw ApplicationFailure.create({ type: code, message, nonRetryable: true });
};
export const iso = (ms: number) => new Date(ms).toISOString();

export class GrantState {
  readonly id: string;
  readonly request: GrantRequestFields;
  readonly requester: Principal;
  readonly door: string;
  /** Before the policy decision is recorded there is nothing to show. */
  private current: GrantView | undefined;
  decision?: RequestDecision;
  role?: RoleSnapshot;
  slack?: { channel?: string };
  /** Set by end(); the end event is recorded once the sessions are handed to the ledger. */
  ending?: Ending;
  readonly sessions: IssuedSession[] = [];
  issuing = 0;
  sessionCounter = 0;
  /** An extend is between its validator and its policy answer: a second one must wait. */
  extensionInFlight = false;
  extensionDeadline = 0;
  /** Audit sequence up to which a caller waiting for the first decision can be answered. */
  answerableAt?: number;
  /** Audit sequence of the end event, once recorded. */
  endedAt?: number;

  private seq = 0;
  private flushedSeq = 0;
  private readonly queue: AuditEventInput[] = [];
  private flushing = false;
  /** A non-retryable audit failure (a bug, or a reset grant rewriting its past): the grant stops. */
  private auditFailure?: unknown;

  constructor(start: { request: GrantRequestFields }, claims: AssertionClaims) {
    this.id = start.request.grantId;
    this.request = start.request;
    this.requester = claims.principal;
    this.door = claims.door;
    upsertSearchAttributes([
      { key: JitStatus, value: 'pending' },
      { key: JitRole, value: this.request.roleId },
      { key: JitRequester, value: this.requester.sub },
    ]);
  }

  /** Sequence number of the last recorded event. */
  get recordedSeq(): number {
    return this.seq;
  }

  get view(): GrantView {
    if (!this.current) reject('grant_not_pending', 'policy evaluation is still running; try again');
    return this.current as GrantView;
  }
  get decided(): boolean {
    return this.current !== undefined;
  }
  /** The status decisions act on: an ending grant is already what it is becoming. */
  get status(): GrantStatus {
    return this.ending?.status ?? this.current?.status ?? 'pending';
  }
  get approvalsMet(): boolean {
    const view = this.current;
    return view !== undefined && view.approvals.length >= view.requiredApprovals;
  }

  /** Writes a transition: the view folds it now, the audit trail gets it with the next flush. */
  record<T extends keyof GrantEventData>(type: T, actor: Actor, data: GrantEventData[T]): number {
    const by = actor === 'system' ? { sub: 'system' } : actor;
    const actorKind: ActorKind = actor === 'system' ? 'system' : (actor.kind ?? 'person');
    const event: AuditEventInput = {
      eventId: `${this.id}:${++this.seq}`,
      occurredAt: iso(Date.now()),
      grantId: this.id,
      type,
      actor: by.sub,
      ...(by.email ? { actorEmail: by.email } : {}),
      roleId: this.request.roleId,
      requester: this.requester.sub,
      // Every event says what kind of actor it was: person, workload or system.
      data: { ...(data as unknown as Record<string, unknown>), actorKind },
    };
    this.current = projectGrant(this.current, event);
    this.queue.push(event);
    if (!this.flushing) void this.flush();
    return this.seq;
  }

  /** Resolves once the audit trail (and so the read model) has every event up to `seq`. */
  async flushed(seq: number = this.seq): Promise<void> {
    await condition(() => this.flushedSeq >= seq || this.auditFailure !== undefined);
    if (this.auditFailure !== undefined) {
      throw ApplicationFailure.nonRetryable(
        `audit trail refused an event: ${String(this.auditFailure)}`,
        'audit_failed',
      );
    }
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0 && this.auditFailure === undefined) {
        const batch = this.queue.splice(0, this.queue.length);
        await recordAuditEvents(batch);
        this.flushedSeq += batch.length;
      }
    } catch (err) {
      this.auditFailure = err;
    } finally {
      this.flushing = false;
    }
  }

  recordDecision(outcome: PolicyOutcome & { failed?: boolean }, claims: AssertionClaims): void {
    const { decision, role } = outcome;
    this.decision = decision;
    this.role = role;
    this.slack = outcome.slack;
    const requester = this.requester;
    const allowed = decision.allowed && claims.verdict.allowed && role !== undefined;
    this.record('grant.requested', requester, {
      reason: this.request.reason,
      ...(this.request.ticket ? { ticket: this.request.ticket } : {}),
      durationSeconds: this.request.durationSeconds,
      ...(role ? { role: { arn: role.arn, account: role.account } } : {}),
      allowed,
      autoApproved: decision.autoApproved,
      breakGlass: decision.breakGlass,
      requiredApprovals: decision.autoApproved ? 0 : decision.approvalsRequired,
      policyIds: [...new Set([...claims.verdict.policyIds, ...decision.policyIds])],
      reasons: decision.reasons,
      actorKind: requester.kind ?? 'person',
      door: this.door,
      ...(this.request.requestDigest ? { requestDigest: this.request.requestDigest } : {}),
      ...(this.request.onBehalfOf
        ? {
            onBehalfOf: {
              sub: this.request.onBehalfOf.sub,
              ...(this.request.onBehalfOf.email ? { email: this.request.onBehalfOf.email } : {}),
            },
          }
        : {}),
      // The execution, never the task token.
      ...(this.request.stepFunctions
        ? {
            stepFunctions: {
              executionArn: this.request.stepFunctions.executionArn,
              stateName: this.request.stepFunctions.stateName,
            },
          }
        : {}),
    });
  }

  activate(): void {
    const activatedAt = Date.now();
    const view = this.view;
    this.record('grant.activated', 'system', {
      expiresAt: iso(activatedAt + view.duration * 1000),
      approvers: view.approvals.map((a) => a.by),
      breakGlass: view.breakGlass,
      postHocReview: view.breakGlass,
    });
    this.searchAttributes();
  }

  /** Ends the grant (first call wins); `settle` records it once its sessions are covered. */
  end(status: EndedStatus, reason: string, by: Actor): void {
    if (this.ending || this.endedAt !== undefined) return;
    const who = by === 'system' ? { sub: 'system' } : by;
    const byKind: ActorKind = by === 'system' ? 'system' : (by.kind ?? 'person');
    this.ending = { status, reason, by: who.sub, ...(who.email ? { byEmail: who.email } : {}), byKind };
  }

  recordEnd(sessionsDenied: string[]): number {
    const ending = this.ending as Ending;
    const by: Actor =
      ending.byKind === 'system'
        ? 'system'
        : { sub: ending.by, ...(ending.byEmail ? { email: ending.byEmail } : {}), kind: ending.byKind };
    const seq = this.record(endEventType[ending.status] as 'grant.revoked', by, {
      reason: ending.reason,
      sessionsDenied,
    });
    this.endedAt = seq;
    this.searchAttributes();
    return seq;
  }

  searchAttributes(): void {
    const view = this.current;
    upsertSearchAttributes([
      { key: JitStatus, value: this.status },
      ...(view?.expiresAt ? [{ key: JitExpiresAt, value: new Date(view.expiresAt) }] : []),
    ]);
  }
}
