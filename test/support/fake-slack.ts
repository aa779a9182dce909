// A local stand-in for the Slack Web API (the one outside service the tests fake): records every
// call, knows a few workspace members, and can be switched to failing or hanging to play an outage.
// Also signs interaction payloads exactly as Slack does, for requests to POST /slack/events.
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface SlackCall {
  method: string;
  args: Record<string, any>;
  /** False when the fake answered with an error or hung up (outage). */
  ok: boolean;
}

export interface SlackMember {
  id: string;
  email?: string;
  emailConfirmed?: boolean;
  isBot?: boolean;
}

export type FakeSlackMode = 'up' | 'error' | 'hang';

export interface FakeSlack {
  /** Base URL for the WebClient's `slackApiUrl` (ends with /api/). */
  apiUrl: string;
  botToken: string;
  calls: SlackCall[];
  /** Successful calls of one method, oldest first. */
  delivered(method: string): Record<string, any>[];
  setMode(mode: FakeSlackMode): void;
  close(): Promise<void>;
}

export async function startFakeSlack(opts: {
  members: SlackMember[];
  botToken?: string;
}): Promise<FakeSlack> {
  const botToken = opts.botToken ?? 'fake-bot-token-for-tests';
  const calls: SlackCall[] = [];
  const hung = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  let mode: FakeSlackMode = 'up';
  let ts = 1_700_000_000;
  const channels = new Map<string, string>(); // '#name' -> C-id

  const member = (pred: (m: SlackMember) => boolean) => opts.members.find(pred);
  const userObject = (m: SlackMember) => ({
    id: m.id,
    team_id: 'T0FAKE',
    deleted: false,
    is_bot: m.isBot ?? false,
    is_email_confirmed: m.emailConfirmed ?? true,
    profile: m.email ? { email: m.email } : {},
  });
  const channelId = (channel: string) => {
    if (!channel.startsWith('#')) return channel;
    let id = channels.get(channel);
    if (!id) {
      id = `C${String(channels.size + 1).padStart(8, '0')}`;
      channels.set(channel, id);
    }
    return id;
  };

  function answer(method: string, args: Record<string, any>): Record<string, unknown> {
    switch (method) {
      case 'auth.test':
        return { ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T0FAKE' };
      case 'users.info': {
        const m = member((x) => x.id === args.user);
        return m ? { ok: true, user: userObject(m) } : { ok: false, error: 'user_not_found' };
      }
      case 'users.lookupByEmail': {
        const m = member((x) => x.email?.toLowerCase() === String(args.email).toLowerCase());
        return m ? { ok: true, user: userObject(m) } : { ok: false, error: 'users_not_found' };
      }
      case 'chat.postMessage':
        return { ok: true, channel: channelId(String(args.channel)), ts: `${++ts}.000100` };
      case 'chat.update':
        return { ok: true, channel: args.channel, ts: args.ts };
      case 'chat.postEphemeral':
        return { ok: true, message_ts: `${++ts}.000200` };
      case 'views.open':
        return { ok: true, view: { id: `V${++ts}` } };
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  const readBody = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let data = '';
      req.on('data', (c) => {
        data += c;
      });
      req.on('end', () => resolve(data));
    });

  const server = createServer(async (req, res) => {
    const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
    const raw = await readBody(req);
    const args: Record<string, any> = req.headers['content-type']?.includes('json')
      ? JSON.parse(raw || '{}')
      : Object.fromEntries(new URLSearchParams(raw));
    for (const key of ['blocks', 'view']) {
      if (typeof args[key] === 'string') args[key] = JSON.parse(args[key]);
    }
    if (mode === 'hang') {
      calls.push({ method, args, ok: false });
      hung.add(res);
      return;
    }
    res.setHeader('content-type', 'application/json');
    if (mode === 'error') {
      calls.push({ method, args, ok: false });
      res.statusCode = 503;
      return res.end(JSON.stringify({ ok: false, error: 'service_unavailable' }));
    }
    if (req.headers.authorization !== `Bearer ${botToken}`) {
      calls.push({ method, args, ok: false });
      return res.end(JSON.stringify({ ok: false, error: 'invalid_auth' }));
    }
    const body = answer(method, args);
    calls.push({ method, args, ok: body.ok === true });
    res.end(JSON.stringify(body));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    apiUrl: `http://127.0.0.1:${port}/api/`,
    botToken,
    calls,
    delivered: (method) => calls.filter((c) => c.method === method && c.ok).map((c) => c.args),
    setMode(next) {
      mode = next;
      // Hung requests end the way a dead peer's do: the connection drops.
      if (next !== 'hang') {
        for (const res of hung) res.socket?.destroy();
        hung.clear();
      }
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Slack's request signing: v0=HMAC-SHA256(secret, `v0:<timestamp>:<raw body>`). */
export function slackSignature(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

/** An interaction payload as Slack sends it: form-encoded `payload=<json>`, signed. */
export function signedInteraction(
  secret: string,
  payload: object,
  opts: { timestamp?: number; signature?: string } = {},
): { body: string; headers: Record<string, string> } {
  const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
  return {
    body,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': opts.signature ?? slackSignature(secret, timestamp, body),
    },
  };
}

/** What every interaction payload from the fake workspace carries. */
const envelope = (user: string) => ({
  team: { id: 'T0FAKE', domain: 'fake' },
  user: { id: user, team_id: 'T0FAKE' },
  api_app_id: 'A0FAKE',
  token: 'deprecated-verification-token',
});

let actionCounter = 0;
/** A block_actions payload for a click on a button of the approval message. */
export function buttonClick(opts: {
  user: string;
  actionId: string;
  grantId: string;
  channel: string;
  messageTs: string;
  actionTs?: string;
}): object {
  const actionTs =
    opts.actionTs ?? `${Math.floor(Date.now() / 1000)}.${String(++actionCounter).padStart(6, '0')}`;
  return {
    type: 'block_actions',
    ...envelope(opts.user),
    container: { type: 'message', message_ts: opts.messageTs, channel_id: opts.channel, is_ephemeral: false },
    trigger_id: `trigger-${actionTs}`,
    channel: { id: opts.channel, name: 'approvals' },
    message: { ts: opts.messageTs, type: 'message' },
    response_url: 'https://hooks.slack.invalid/actions/T0FAKE/1/x',
    actions: [
      {
        action_id: opts.actionId,
        block_id: 'decision',
        value: opts.grantId,
        type: 'button',
        action_ts: actionTs,
        text: { type: 'plain_text', text: 'x' },
      },
    ],
  };
}

/** The view_submission Slack sends when the reviewer submits the deny modal. */
export function denySubmission(opts: {
  user: string;
  viewId: string;
  privateMetadata: string;
  reason: string;
}): object {
  return {
    type: 'view_submission',
    ...envelope(opts.user),
    trigger_id: 'trigger-view',
    view: {
      id: opts.viewId,
      type: 'modal',
      callback_id: 'grant_deny_reason',
      private_metadata: opts.privateMetadata,
      hash: 'h',
      state: { values: { reason: { reason_input: { type: 'plain_text_input', value: opts.reason } } } },
    },
  };
}
