// The post-hoc review of a break-glass grant: its wire shape (defined once, zod) and how its audit
// events fold into the grant view. A review opens when a break-glass grant activates, has a
// deadline, escalates on a schedule while nobody decides, and closes with an acknowledgement or a
// flag. Pure: the review workflow, the grant projection and the store all use it.
import { z } from 'zod';
import type { GrantCard } from './grant.js';

export const reviewOutcomes = ['acknowledged', 'flagged'] as const;
export type ReviewOutcome = (typeof reviewOutcomes)[number];

/** The review as the grant view shows it. */
export const reviewView = z.object({
  status: z.enum(['open', 'decided']),
  openedAt: z.string(),
  deadline: z.string(),
  /** How often it was escalated because nobody decided by the deadline. */
  escalations: z.number(),
  lastEscalatedAt: z.string().optional(),
  outcome: z.enum(reviewOutcomes).optional(),
  /** `sub` (and email) of the reviewer who decided. */
  reviewer: z.string().optional(),
  reviewerEmail: z.string().optional(),
  comment: z.string().optional(),
  decidedAt: z.string().optional(),
  /** Decided at or before the deadline. */
  onTime: z.boolean().optional(),
  /** The flag asked for the grant to be revoked. */
  revokeRequested: z.boolean().optional(),
});
export type ReviewView = z.infer<typeof reviewView>;

/** A role's review settings, as the policy step recorded them (catalog: reviewDeadline, reviewEscalateEvery). */
export interface ReviewPlan {
  deadlineSeconds: number;
  escalateEverySeconds: number;
  /** Where escalations go; the role's own channel when absent. */
  escalationChannel?: string;
}

export const reviewEventTypes = [
  'grant.review_opened',
  'grant.review_escalated',
  'grant.review_acknowledged',
  'grant.review_flagged',
] as const;
export type ReviewEventType = (typeof reviewEventTypes)[number];

export const isReviewEvent = (type: string): type is ReviewEventType =>
  (reviewEventTypes as readonly string[]).includes(type);

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** The review after one of its events; `review` is undefined before `grant.review_opened`. */
export function foldReview(
  review: ReviewView | undefined,
  event: {
    type: string;
    actor: string;
    actorEmail?: string | null;
    occurredAt: string;
    data: Record<string, unknown>;
  },
): ReviewView | undefined {
  const d = event.data;
  const at = event.occurredAt;
  if (event.type === 'grant.review_opened') {
    return review ?? { status: 'open', openedAt: at, deadline: str(d.deadline) ?? at, escalations: 0 };
  }
  if (review?.status !== 'open') return review;
  if (event.type === 'grant.review_escalated') {
    return { ...review, escalations: num(d.escalation) ?? review.escalations + 1, lastEscalatedAt: at };
  }
  const outcome: ReviewOutcome = event.type === 'grant.review_flagged' ? 'flagged' : 'acknowledged';
  const comment = str(d.comment);
  return {
    ...review,
    status: 'decided',
    outcome,
    reviewer: event.actor,
    ...(event.actorEmail ? { reviewerEmail: event.actorEmail } : {}),
    ...(comment ? { comment } : {}),
    decidedAt: at,
    onTime: at <= review.deadline,
    ...(d.revoke === true ? { revokeRequested: true } : {}),
  };
}

/** What the review message and the reviewers' DMs show: the grant and its review. */
export type ReviewCard = GrantCard & { review: ReviewView; reviewerGroups: string[] };
