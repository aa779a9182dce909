// What happens while a request waits for approval: reminders to the reviewers who have not acted,
// one escalation (optionally widening who may approve), and the requester's nudges. Wire shape
// (zod, defined once) and the fold of its audit events into the grant view. Pure.
import { z } from 'zod';

/** The follow-up of a pending request, as the grant view shows it. */
export const approvalFollowUp = z.object({
  reminders: z.number(),
  lastRemindedAt: z.string().optional(),
  escalatedAt: z.string().optional(),
  /** The group that may approve too since the escalation (Cedar decides; the catalog names it). */
  escalationGroup: z.string().optional(),
  nudges: z.number(),
  lastNudgedAt: z.string().optional(),
});
export type ApprovalFollowUp = z.infer<typeof approvalFollowUp>;

/** A role's follow-up settings as the policy step recorded them (catalog fields of the same names). */
export interface FollowUpPlan {
  remindAfterSeconds?: number;
  maxReminders: number;
  escalateAfterSeconds?: number;
  /** Where the escalation goes; the role's own channel when absent. */
  escalationChannel?: string;
  escalationGroup?: string;
  /** A requester nudges at most once per this long. */
  nudgeIntervalSeconds: number;
}

export const followUpEventTypes = ['grant.reminder_sent', 'grant.escalated', 'grant.nudged'] as const;

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** The follow-up after one of its events. */
export function foldFollowUp(
  followUp: ApprovalFollowUp | undefined,
  event: { type: string; occurredAt: string; data: Record<string, unknown> },
): ApprovalFollowUp {
  const current = followUp ?? { reminders: 0, nudges: 0 };
  const at = event.occurredAt;
  switch (event.type) {
    case 'grant.reminder_sent':
      return { ...current, reminders: num(event.data.reminder) ?? current.reminders + 1, lastRemindedAt: at };
    case 'grant.escalated': {
      const group = event.data.group;
      return {
        ...current,
        escalatedAt: at,
        ...(typeof group === 'string' ? { escalationGroup: group } : {}),
      };
    }
    case 'grant.nudged':
      return { ...current, nudges: current.nudges + 1, lastNudgedAt: at };
    default:
      return current;
  }
}
