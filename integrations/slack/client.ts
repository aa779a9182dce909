// Every call the broker makes to the Slack Web API, in one place (one module per outside
// system). The worker's activities and the API's interaction handlers both go through these.
import { ErrorCode, LogLevel, type WebAPICallError, WebClient } from '@slack/web-api';
import type { ApprovalMessageRef } from '../../common/grant.js';

export interface SlackSettings {
  botToken: string;
  /** https://slack.com/api/ in production; a local fake in tests. */
  apiUrl: string;
  timeoutMs?: number;
}

/** One client per process. Retries are the caller's: Temporal's for activities, Slack's for interactions. */
export function createSlackClient(settings: SlackSettings): WebClient {
  return new WebClient(settings.botToken, {
    slackApiUrl: settings.apiUrl,
    timeout: settings.timeoutMs ?? 10_000,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logLevel: LogLevel.ERROR,
  });
}

export type SlackMessage = { text: string; blocks: object[] };

/**
 * A Slack error the caller should not retry: the request itself is wrong, not Slack's availability.
 * Set-up errors an operator can fix (not_in_channel, invalid_auth, missing_scope) stay retryable, so
 * messages go out once the bot is invited or the token replaced.
 */
const PERMANENT = new Set([
  'channel_not_found',
  'is_archived',
  'cannot_dm_bot',
  'messages_tab_disabled',
  'user_not_found',
  'invalid_blocks',
  'invalid_arguments',
  'msg_too_long',
  'no_text',
  'message_not_found',
  'cant_update_message',
  'edit_window_closed',
]);

export function describeSlackError(err: unknown): {
  code: string;
  permanent: boolean;
  retryAfterSeconds?: number;
} {
  const e = err as Partial<WebAPICallError> & { data?: { error?: string }; retryAfter?: number };
  if (e.code === ErrorCode.PlatformError) {
    const code = e.data?.error ?? 'unknown_error';
    return { code, permanent: PERMANENT.has(code) };
  }
  if (e.code === ErrorCode.RateLimitedError) {
    return { code: 'rate_limited', permanent: false, retryAfterSeconds: e.retryAfter ?? 1 };
  }
  return { code: e.code ?? 'request_failed', permanent: false };
}

/** Why a Slack user cannot act for a directory identity, or their verified email. */
export type SlackUserEmail = { email: string } | { problem: string };

export async function verifiedEmail(client: WebClient, userId: string): Promise<SlackUserEmail> {
  const res = await client.users.info({ user: userId });
  const user = res.user as
    | {
        deleted?: boolean;
        is_bot?: boolean;
        is_email_confirmed?: boolean;
        profile?: { email?: string };
      }
    | undefined;
  if (!user || user.deleted) return { problem: 'your Slack account is not active' };
  if (user.is_bot) return { problem: 'bots cannot review access requests' };
  const email = user.profile?.email;
  if (!email) return { problem: 'your Slack profile has no email address the broker can see' };
  if (user.is_email_confirmed !== true) return { problem: 'your Slack email address is not verified' };
  return { email };
}

export async function postMessage(
  client: WebClient,
  channel: string,
  message: SlackMessage,
): Promise<ApprovalMessageRef> {
  const res = await client.chat.postMessage({
    channel,
    text: message.text,
    blocks: message.blocks as never,
    unfurl_links: false,
  });
  return { channel: res.channel as string, ts: res.ts as string };
}

export async function updateMessage(
  client: WebClient,
  ref: ApprovalMessageRef,
  message: SlackMessage,
): Promise<void> {
  await client.chat.update({
    channel: ref.channel,
    ts: ref.ts,
    text: message.text,
    blocks: message.blocks as never,
  });
}

/** A reply in the thread of `ref`, also shown in the channel, so everyone there sees it again. */
export async function replyInThread(client: WebClient, ref: ApprovalMessageRef, text: string): Promise<void> {
  await client.chat.postMessage({
    channel: ref.channel,
    thread_ts: ref.ts,
    reply_broadcast: true,
    text,
    unfurl_links: false,
  });
}

export async function postEphemeral(client: WebClient, channel: string, user: string, text: string) {
  await client.chat.postEphemeral({ channel, user, text });
}

export async function openModal(client: WebClient, triggerId: string, view: object): Promise<void> {
  await client.views.open({ trigger_id: triggerId, view: view as never });
}

/** DMs the Slack user with this email; false when the email has no Slack account. */
export async function directMessage(client: WebClient, email: string, text: string): Promise<boolean> {
  let userId: string | undefined;
  try {
    userId = (await client.users.lookupByEmail({ email })).user?.id;
  } catch (err) {
    if (describeSlackError(err).code === 'users_not_found') return false;
    throw err;
  }
  if (!userId) return false;
  // Posting to a user id lands in the app's DM with them (the manifest enables the Messages tab).
  await client.chat.postMessage({ channel: userId, text, unfurl_links: false });
  return true;
}
