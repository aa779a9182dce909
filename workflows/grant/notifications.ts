// What people hear about a grant in Slack: the approval message in the role's channel, edited in
// place as the grant moves, and the requester's DMs. Two queues beside the lifecycle, so a slow or
// absent Slack delays no decision and a failing DM never holds the channel message back.
import { log } from '@temporalio/workflow';
import type { ReminderOccasion } from '../../common/activities.js';
import type { ApprovalMessageRef, GrantCard, RequesterNoticeKind } from '../../common/grant.js';
import {
  bumpMessage,
  notifyRequester,
  postApprovalMessage,
  remindReviewers,
  updateApprovalMessage,
} from './activities.js';
import type { GrantState } from './state.js';

/** The requester hears this long before the end, with how to extend. */
export const REMIND_BEFORE_MS = 10 * 60 * 1000;

export class Notifications {
  private messageQueue: Promise<void> = Promise.resolve();
  private noticeQueue: Promise<void> = Promise.resolve();
  private message: ApprovalMessageRef | null = null;
  private shownOnMessage?: string;
  /** A copy of the approval message in the escalation channel, edited like it. */
  private escalationMessage: ApprovalMessageRef | null = null;
  private shownOnEscalation?: string;

  constructor(private readonly grant: GrantState) {}

  private get on(): boolean {
    return this.grant.slack !== undefined;
  }

  card(): GrantCard {
    const view = this.grant.view;
    return {
      id: view.id,
      status: this.grant.status,
      requester: view.requester,
      role: { id: view.role.id, ...(view.role.account ? { account: view.role.account } : {}) },
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
      ...(view.followUp?.escalatedAt ? { escalatedAt: view.followUp.escalatedAt } : {}),
    };
  }

  private enqueue(queue: 'message' | 'notice', step: () => Promise<unknown>): void {
    const run = (chain: Promise<void>) =>
      chain
        .then(step)
        .then(() => undefined)
        .catch((err: unknown) => log.warn('Slack step abandoned', { error: String(err) }));
    if (queue === 'message') this.messageQueue = run(this.messageQueue);
    else this.noticeQueue = run(this.noticeQueue);
  }

  /** Reviewers see in their channel what waits for them, and break-glass access when it is taken. */
  requestPosted(): void {
    const channel = this.grant.slack?.channel;
    const view = this.grant.view;
    const waits = this.grant.status === 'pending' && !this.grant.approvalsMet;
    if (!channel || this.grant.status !== 'pending' || !(waits || view.breakGlass)) return;
    this.enqueue('message', async () => {
      const shown = this.card();
      this.message = await postApprovalMessage({ channel, card: shown });
      this.shownOnMessage = JSON.stringify(shown);
    });
  }

  /** Edits the approval message to the grant's state when the edit runs; edits queued behind an outage collapse. */
  refresh(): void {
    if (!this.on) return;
    this.enqueue('message', async () => {
      const shown = this.card();
      const key = JSON.stringify(shown);
      if (this.message && key !== this.shownOnMessage) {
        await updateApprovalMessage({ message: this.message, card: shown });
        this.shownOnMessage = key;
      }
      if (this.escalationMessage && key !== this.shownOnEscalation) {
        await updateApprovalMessage({ message: this.escalationMessage, card: shown });
        this.shownOnEscalation = key;
      }
    });
  }

  /**
   * Reviewers hear again about a request that waits: a reply under its message (shown in the
   * channel) and a DM to each eligible reviewer who has not acted. Dropped if decided meanwhile.
   */
  remindReviewers(occasion: ReminderOccasion): void {
    if (!this.on) return;
    const waiting = () => this.grant.status === 'pending' && !this.grant.approvalsMet;
    this.enqueue('message', async () => {
      if (!waiting() || !this.message) return;
      await bumpMessage({ message: this.message, kind: 'approval', card: this.card(), occasion });
    });
    this.enqueue('notice', async () => {
      if (!waiting()) return;
      const view = this.grant.view;
      await remindReviewers({
        kind: 'approval',
        occasion,
        card: this.card(),
        roleId: view.role.id,
        requester: this.grant.requester,
        acted: view.approvals.map((a) => a.by),
        escalated: view.followUp?.escalatedAt !== undefined,
      });
    });
  }

  /** The request escalates: a copy of its message in the escalation channel, unless that is its own. */
  escalate(channel: string | undefined): void {
    if (!this.on || !channel || channel === this.grant.slack?.channel) return;
    this.enqueue('message', async () => {
      if (this.grant.status !== 'pending' || this.grant.approvalsMet) return;
      const shown = this.card();
      this.escalationMessage = await postApprovalMessage({ channel, card: shown });
      this.shownOnEscalation = JSON.stringify(shown);
    });
  }

  tellRequester(kind: RequesterNoticeKind): void {
    if (!this.on) return;
    const snapshot = this.card();
    this.enqueue('notice', async () => {
      // Late after an outage: "you are active" or "ends soon" about a grant that has ended is noise.
      if ((kind === 'active' || kind === 'expiring') && this.grant.status !== 'active') return;
      await notifyRequester({ kind, card: snapshot });
    });
  }

  /** Everything queued has run (or been abandoned). */
  async drained(): Promise<void> {
    await this.messageQueue;
    await this.noticeQueue;
  }
}
