// What reviewers hear about a break-glass review in Slack: the review message in the role's channel
// (Acknowledge and Flag buttons while it is open), the escalations, and DMs to the reviewers. Queued
// beside the review, so a slow or absent Slack never holds a decision back.
import { log } from '@temporalio/workflow';
import type { ReminderOccasion } from '../../common/activities.js';
import type { ApprovalMessageRef } from '../../common/grant.js';
import { bumpMessage, postReviewMessage, remindReviewers, updateReviewMessage } from '../grant/activities.js';
import type { ReviewState } from './state.js';

export class ReviewMessages {
  private messageQueue: Promise<void> = Promise.resolve();
  private dmQueue: Promise<void> = Promise.resolve();
  /** The message in the role's channel, and the first escalation's in the escalation channel. */
  private readonly posted: { review?: ApprovalMessageRef | null; escalation?: ApprovalMessageRef | null };
  private readonly shown = new Map<string, string>();

  constructor(private readonly state: ReviewState) {
    this.posted = { ...state.start.resume?.messages };
  }

  /** What a run that continues as new must keep editing. */
  get messages(): { review?: ApprovalMessageRef | null; escalation?: ApprovalMessageRef | null } {
    return { ...this.posted };
  }

  private get slack() {
    return this.state.start.slack;
  }

  private enqueue(queue: 'message' | 'dm', step: () => Promise<unknown>): void {
    const run = (chain: Promise<void>) =>
      chain
        .then(step)
        .then(() => undefined)
        .catch((err: unknown) => log.warn('Slack step abandoned', { error: String(err) }));
    if (queue === 'message') this.messageQueue = run(this.messageQueue);
    else this.dmQueue = run(this.dmQueue);
  }

  private async post(channel: string): Promise<ApprovalMessageRef | null> {
    const card = this.state.card();
    const message = await postReviewMessage({ channel, card });
    if (message) this.shown.set(message.ts, JSON.stringify(card));
    return message;
  }

  opened(): void {
    const channel = this.slack?.channel;
    if (!channel) return;
    this.enqueue('message', async () => {
      this.posted.review = await this.post(channel);
    });
  }

  /**
   * Past the deadline: the escalation channel hears of it (a copy of the review message the first
   * time, a reply under it after that) and every reviewer gets a DM.
   */
  escalated(): void {
    const slack = this.slack;
    if (!slack) return;
    const target = this.state.start.plan.escalationChannel ?? slack.channel;
    const separate = target !== undefined && target !== slack.channel;
    const occasion: ReminderOccasion = { type: 'escalation' };
    this.refresh();
    this.enqueue('message', async () => {
      if (!this.state.open) return;
      if (separate && !this.posted.escalation) {
        this.posted.escalation = await this.post(target);
        return;
      }
      const message = separate ? this.posted.escalation : this.posted.review;
      if (message) await bumpMessage({ message, kind: 'review', card: this.state.card(), occasion });
    });
    this.enqueue('dm', async () => {
      // Late after an outage: the review may have been decided meanwhile.
      if (!this.state.open) return;
      await remindReviewers({
        kind: 'review',
        occasion,
        card: this.state.card(),
        roleId: this.state.start.roleId,
        requester: this.state.start.requester,
        acted: [],
        escalated: false,
      });
    });
  }

  /** Edits the posted messages to the review's state when the edit runs; queued edits collapse. */
  refresh(): void {
    if (!this.slack) return;
    this.enqueue('message', async () => {
      const card = this.state.card();
      const key = JSON.stringify(card);
      for (const message of [this.posted.review, this.posted.escalation]) {
        if (!message || this.shown.get(message.ts) === key) continue;
        await updateReviewMessage({ message, card });
        this.shown.set(message.ts, key);
      }
    });
  }

  async drained(): Promise<void> {
    await this.messageQueue;
    await this.dmQueue;
  }
}
