// What a reviewer's click in Slack does. The Slack user becomes a directory identity by verified
// email, then the decision goes through the same GrantService (and the same workflow validators)
// as the API, with an update id taken from the action so Slack's retries count once.
import type { App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { FastifyBaseLogger } from 'fastify';
import { z } from 'zod';
import { GRANT_ID, type Principal } from '../../common/grant.js';
import type { Directory } from '../../integrations/directory.js';
import {
  APPROVE_ACTION,
  DENY_ACTION,
  DENY_MODAL,
  DENY_REASON_BLOCK,
  DENY_REASON_INPUT,
  DENY_REASON_MAX,
  denyModal,
} from '../../integrations/slack/blocks.js';
import { openModal, postEphemeral, verifiedEmail } from '../../integrations/slack/client.js';
import { ApiError } from '../errors.js';
import type { GrantService } from '../grant-service.js';

export interface SlackInteractionDeps {
  grants: Pick<GrantService, 'approve' | 'deny' | 'assertMayReview'>;
  /** Absent when JIT_DIRECTORY_FILE is not set: then nobody in Slack can be mapped. */
  directory: Directory | undefined;
  slack: WebClient;
  log: FastifyBaseLogger;
}

const grantId = z.string().regex(GRANT_ID);
const buttonClick = z.object({
  user: z.object({ id: z.string().min(1) }),
  channel: z.object({ id: z.string().min(1) }).optional(),
  container: z.object({ channel_id: z.string().min(1).optional() }).optional(),
  trigger_id: z.string().min(1),
  actions: z.array(z.object({ value: grantId, action_ts: z.string().min(1) })).length(1),
});
const denyMetadata = z.object({ grantId, channel: z.string().min(1).optional() });
const denySubmission = z.object({
  user: z.object({ id: z.string().min(1) }),
  view: z.object({
    id: z.string().min(1),
    private_metadata: z.string(),
    state: z.object({
      values: z.record(z.string(), z.record(z.string(), z.object({ value: z.string().nullish() }))),
    }),
  }),
});

/** What the reviewer reads when a click changed nothing. */
export function explainRefusal(err: unknown): string {
  if (!(err instanceof ApiError))
    return 'Something went wrong and nothing was changed. Try again, or use `jit`.';
  switch (err.code) {
    case 'self_approval':
      return 'You cannot approve or deny your own request. Nothing was changed.';
    case 'not_eligible':
    case 'not_found':
      return 'You are not an eligible reviewer for this role. Nothing was changed.';
    case 'already_approved':
      return 'You have already approved this request.';
    case 'already_decided':
    case 'grant_not_pending':
      return `This request is no longer waiting for a decision (${err.message}).`;
    default:
      return `Nothing was changed: ${err.message}`;
  }
}

/** Who clicked, as a directory identity, and how they are told a refusal (ephemerally). */
export function slackActors(deps: Pick<SlackInteractionDeps, 'directory' | 'slack' | 'log'>) {
  const { directory, slack, log } = deps;

  const tell = (channel: string | undefined, user: string, text: string) =>
    channel
      ? postEphemeral(slack, channel, user, text).catch((err: Error) =>
          log.warn({ err: err.message }, 'could not post an ephemeral Slack message'),
        )
      : undefined;

  /** The directory identity behind a Slack user, or why there is none. */
  async function reviewer(slackUserId: string): Promise<Principal | { problem: string }> {
    if (!directory)
      return { problem: 'this broker has no directory to map Slack users (JIT_DIRECTORY_FILE)' };
    const found = await verifiedEmail(slack, slackUserId);
    if ('problem' in found) return found;
    const principal = directory.byEmail(found.email);
    if (!principal) return { problem: "your Slack email address matches nobody in the broker's directory" };
    return principal;
  }

  /** Runs `act` as the reviewer behind a Slack user; whatever refuses it is told to them, ephemerally. */
  async function asReviewer(
    verb: string,
    slackUser: string,
    channel: string | undefined,
    act: (who: Principal) => Promise<void>,
    explain: (err: unknown) => string = explainRefusal,
  ): Promise<void> {
    try {
      const who = await reviewer(slackUser);
      if ('problem' in who) {
        await tell(channel, slackUser, `Cannot ${verb}: ${who.problem}. Nothing was changed.`);
        return;
      }
      await act(who);
    } catch (err) {
      if (!(err instanceof ApiError)) log.error({ err }, `Slack ${verb} failed`);
      await tell(channel, slackUser, explain(err));
    }
  }

  return { tell, asReviewer };
}

/** A click on a button whose value is a grant id. */
export const parseClick = (body: unknown) => {
  const click = buttonClick.safeParse(body);
  if (!click.success) return undefined;
  const { user, actions, trigger_id } = click.data;
  const [action] = actions as [{ value: string; action_ts: string }];
  const channel = click.data.channel?.id ?? click.data.container?.channel_id;
  return {
    user: user.id,
    grantId: action.value,
    actionTs: action.action_ts,
    triggerId: trigger_id,
    channel,
  };
};

export function registerSlackInteractions(bolt: App, deps: SlackInteractionDeps): void {
  const { grants, slack, log } = deps;
  const { asReviewer } = slackActors(deps);

  bolt.action(APPROVE_ACTION, async ({ ack, body }) => {
    await ack();
    const click = parseClick(body);
    if (!click) return log.warn('malformed Slack approve payload ignored');
    await asReviewer('approve', click.user, click.channel, async (who) => {
      const updateId = `slack:approve:${click.grantId}:${click.user}:${click.actionTs}`;
      await grants.approve(who, click.grantId, undefined, { updateId, target: 'request', door: 'slack' });
      log.info({ grantId: click.grantId, by: who.sub }, 'approved from Slack');
    });
  });

  bolt.action(DENY_ACTION, async ({ ack, body }) => {
    await ack();
    const click = parseClick(body);
    if (!click) return log.warn('malformed Slack deny payload ignored');
    await asReviewer('deny', click.user, click.channel, async (who) => {
      // Refuse before asking for a reason the workflow would throw away.
      await grants.assertMayReview(who, click.grantId);
      const metadata = { grantId: click.grantId, ...(click.channel ? { channel: click.channel } : {}) };
      await openModal(slack, click.triggerId, denyModal(JSON.stringify(metadata)));
    });
  });

  bolt.view(DENY_MODAL, async ({ ack, body }) => {
    const submission = denySubmission.safeParse(body);
    const reason = submission.success
      ? submission.data.view.state.values[DENY_REASON_BLOCK]?.[DENY_REASON_INPUT]?.value?.trim()
      : undefined;
    if (!submission.success || !reason) {
      return ack({
        response_action: 'errors',
        errors: { [DENY_REASON_BLOCK]: 'A reason is required to deny.' },
      });
    }
    await ack();
    const { user, view } = submission.data;
    let meta: z.infer<typeof denyMetadata>;
    try {
      meta = denyMetadata.parse(JSON.parse(view.private_metadata));
    } catch {
      return log.warn('Slack deny submission with unreadable metadata ignored');
    }
    await asReviewer('deny', user.id, meta.channel, async (who) => {
      const updateId = `slack:deny:${meta.grantId}:${view.id}`;
      await grants.deny(who, meta.grantId, reason.slice(0, DENY_REASON_MAX), {
        updateId,
        target: 'request',
        door: 'slack',
      });
      log.info({ grantId: meta.grantId, by: who.sub }, 'denied from Slack');
    });
  });
}
