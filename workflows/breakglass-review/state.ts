// A review's state and its record. Every transition is one audit event with the grant's id (so
// exports and the read model put it with the grant) and an event id of this workflow
// (`review-<grant id>:<sequence>`); the review folds its own events with the rule the read model
// uses (common/breakglass-review.ts). Events are flushed in order, in batches.
import { ApplicationFailure, condition, workflowInfo } from '@temporalio/workflow';
import type { AuditEventInput, GrantEventData } from '../../common/audit-event.js';
import { foldReview, type ReviewCard, type ReviewView } from '../../common/breakglass-review.js';
import type { ReviewStart } from '../../common/review-messages.js';
import { recordAuditEvents } from '../grant/activities.js';
import { iso, reject } from '../grant/state.js';

type ReviewEventType = Extract<keyof GrantEventData, `grant.review_${string}`>;

export class ReviewState {
  private current: ReviewView | undefined;
  private seq = 0;
  private flushedSeq = 0;
  private readonly queue: AuditEventInput[] = [];
  private flushing = false;
  private auditFailure?: unknown;

  constructor(readonly start: ReviewStart) {
    // A run that continued as new goes on from the previous run's record.
    if (start.resume) {
      this.current = start.resume.review;
      this.seq = start.resume.recorded;
      this.flushedSeq = start.resume.recorded;
    }
  }

  /** Sequence number of the last recorded event. */
  get recordedSeq(): number {
    return this.seq;
  }

  get view(): ReviewView {
    if (!this.current) reject('review_closed', 'the review is not open yet');
    return this.current as ReviewView;
  }
  /** The review, or undefined before it opened. */
  get snapshot(): ReviewView | undefined {
    return this.current;
  }
  get open(): boolean {
    return this.current?.status === 'open';
  }
  get deadlineMs(): number {
    return Date.parse(this.view.deadline);
  }
  card(): ReviewCard {
    return { ...this.start.card, review: this.view, reviewerGroups: this.start.reviewerGroups };
  }

  record<T extends ReviewEventType>(
    type: T,
    actor: { sub: string; email?: string | undefined } | 'system',
    data: GrantEventData[T],
  ): number {
    const by = actor === 'system' ? { sub: 'system' } : actor;
    const event: AuditEventInput = {
      eventId: `${workflowInfo().workflowId}:${++this.seq}`,
      occurredAt: iso(Date.now()),
      grantId: this.start.grantId,
      type,
      actor: by.sub,
      ...(by.email ? { actorEmail: by.email } : {}),
      roleId: this.start.roleId,
      requester: this.start.requester.sub,
      data: data as unknown as Record<string, unknown>,
    };
    this.current = foldReview(this.current, event);
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
}
