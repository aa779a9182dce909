// The grant workflow's Slack activities: the approval message and the requester's DMs. Failures are
// thrown for Temporal to retry (Slack down must never stall a grant; messages catch up later).

import type { WebClient } from '@slack/web-api';
import { ApplicationFailure, log } from '@temporalio/activity';
import type { ReminderOccasion } from '../common/activities.js';
import type { ReviewCard } from '../common/breakglass-review.js';
import type { ApprovalMessageRef, GrantCard, RequesterNoticeKind } from '../common/grant.js';
import { approvalMessage, requesterNotice } from '../integrations/slack/blocks.js';
import {
  describeSlackError,
  directMessage,
  postMessage,
  replyInThread,
  updateMessage,
} from '../integrations/slack/client.js';
import { reminderReply } from '../integrations/slack/follow-up-blocks.js';
import { reviewMessage } from '../integrations/slack/review-blocks.js';

export async function slackCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const { code, permanent, retryAfterSeconds } = describeSlackError(err);
    throw ApplicationFailure.create({
      type: `slack_${code}`,
      message: `Slack ${what} failed: ${code}`,
      nonRetryable: permanent,
      ...(retryAfterSeconds ? { nextRetryDelay: `${retryAfterSeconds}s` } : {}),
    });
  }
}

/** With no Slack client (Slack not configured here) every activity is a recorded no-op. */
export function createSlackActivities(client: WebClient | undefined) {
  return {
    async postApprovalMessage(args: {
      channel: string;
      card: GrantCard;
    }): Promise<ApprovalMessageRef | null> {
      if (!client) return null;
      return slackCall('chat.postMessage', () =>
        postMessage(client, args.channel, approvalMessage(args.card)),
      );
    },

    async updateApprovalMessage(args: { message: ApprovalMessageRef; card: GrantCard }): Promise<void> {
      if (!client) return;
      await slackCall('chat.update', () => updateMessage(client, args.message, approvalMessage(args.card)));
    },

    async notifyRequester(args: {
      kind: RequesterNoticeKind;
      card: GrantCard;
    }): Promise<{ delivered: boolean }> {
      const email = args.card.requester.email;
      if (!client || !email) return { delivered: false };
      const delivered = await slackCall('direct message', () =>
        directMessage(client, email, requesterNotice(args.kind, args.card)),
      );
      if (!delivered)
        log.info('requester has no Slack account for their email; DM skipped', { grantId: args.card.id });
      return { delivered };
    },

    async bumpMessage(args: {
      message: ApprovalMessageRef;
      kind: 'approval' | 'review';
      card: GrantCard | ReviewCard;
      occasion: ReminderOccasion;
    }): Promise<void> {
      if (!client) return;
      await slackCall('thread reply', () =>
        replyInThread(client, args.message, reminderReply(args.kind, args.card, args.occasion)),
      );
    },

    async postReviewMessage(args: { channel: string; card: ReviewCard }): Promise<ApprovalMessageRef | null> {
      if (!client) return null;
      return slackCall('chat.postMessage', () => postMessage(client, args.channel, reviewMessage(args.card)));
    },

    async updateReviewMessage(args: { message: ApprovalMessageRef; card: ReviewCard }): Promise<void> {
      if (!client) return;
      await slackCall('chat.update', () => updateMessage(client, args.message, reviewMessage(args.card)));
    },
  };
}
