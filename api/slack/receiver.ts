// POST /slack/events: the HTTP edge of the Slack app. Checks Slack's request signature over the raw
// body, refuses requests older (or newer) than 5 minutes and exact replays, then hands the payload
// to Bolt and answers as soon as the listener acks (Slack wants an answer within 3 seconds).
import type { App, Receiver, ReceiverEvent } from '@slack/bolt';
import { verifySlackRequest } from '@slack/bolt';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { ApiError, errorBody } from '../errors.js';

const MAX_AGE_SECONDS = 5 * 60;
const SIGNATURE = /^v0=[0-9a-f]{64}$/;

/** Signatures seen within the freshness window; a second sighting is a replay. */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();
  constructor(
    private readonly windowMs = 2 * MAX_AGE_SECONDS * 1000,
    private readonly maxEntries = 100_000,
  ) {}

  /** True the first time a signature is presented. */
  firstSighting(signature: string, now = Date.now()): boolean {
    for (const [sig, until] of this.seen) {
      // Insertion order is arrival order: stop at the first entry still inside the window.
      if (until > now && this.seen.size < this.maxEntries) break;
      this.seen.delete(sig);
    }
    if (this.seen.has(signature)) return false;
    this.seen.set(signature, now + this.windowMs);
    return true;
  }
}

/** Parses an interaction (`payload=<json>` form), a slash command (form) or an Events API body (JSON). */
function parseBody(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (contentType?.startsWith('application/json')) return JSON.parse(raw) as Record<string, unknown>;
  const form = new URLSearchParams(raw);
  const payload = form.get('payload');
  if (payload !== null) return JSON.parse(payload) as Record<string, unknown>;
  return Object.fromEntries(form);
}

export class SlackEventsReceiver implements Receiver {
  private bolt: App | undefined;
  private readonly replays = new ReplayGuard();

  constructor(private readonly opts: { signingSecret: string; log: FastifyBaseLogger }) {}

  init(app: App): void {
    this.bolt = app;
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  register(app: FastifyInstance): void {
    const { signingSecret, log } = this.opts;
    app.register(async (scope) => {
      // Signatures cover the exact bytes Slack sent, so this route keeps the body as a string.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser(
        ['application/x-www-form-urlencoded', 'application/json'],
        { parseAs: 'string' },
        (_req, body, done) => done(null, body),
      );
      scope.post(
        '/slack/events',
        { config: { public: true }, schema: { hide: true } },
        async (req, reply) => {
          const raw = typeof req.body === 'string' ? req.body : '';
          const signature = req.headers['x-slack-signature'];
          const timestamp = Number(req.headers['x-slack-request-timestamp']);
          // One exact form, so the replay guard cannot be dodged by decorating a valid signature.
          if (typeof signature !== 'string' || !SIGNATURE.test(signature) || !Number.isInteger(timestamp)) {
            throw new ApiError('slack_signature_invalid', 'missing or malformed Slack signature headers');
          }
          if (Math.abs(Date.now() / 1000 - timestamp) > MAX_AGE_SECONDS) {
            throw new ApiError('slack_request_stale', 'Slack request timestamp is more than 5 minutes off');
          }
          try {
            verifySlackRequest({
              signingSecret,
              body: raw,
              headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp },
            });
          } catch {
            throw new ApiError('slack_signature_invalid', 'Slack signature does not match');
          }
          if (!this.replays.firstSighting(signature)) {
            throw new ApiError('slack_request_replayed', 'this Slack request was already received');
          }
          let body: Record<string, unknown>;
          try {
            body = parseBody(raw, req.headers['content-type']);
          } catch {
            throw new ApiError('bad_request', 'the Slack payload is not valid');
          }
          if (body.type === 'url_verification') return { challenge: String(body.challenge ?? '') };
          if (body.type === 'ssl_check' || body.ssl_check) return reply.code(200).send();
          const bolt = this.bolt;
          if (!bolt) throw new Error('Slack receiver used before Bolt initialised it');

          let answer: (response: unknown) => void = () => {};
          const acked = new Promise<unknown>((resolve) => {
            answer = resolve;
          });
          const retryNum = Number(req.headers['x-slack-retry-num']);
          const event: ReceiverEvent = {
            body,
            ack: async (response?: unknown) => answer(response ?? ''),
            ...(Number.isInteger(retryNum) ? { retryNum } : {}),
            ...(typeof req.headers['x-slack-retry-reason'] === 'string'
              ? { retryReason: req.headers['x-slack-retry-reason'] }
              : {}),
          };
          const unacked = Symbol('unacked');
          const failed = Symbol('failed');
          const processed = bolt.processEvent(event).then(
            () => unacked,
            (err: unknown) => {
              log.error({ err }, 'Slack interaction failed');
              return failed;
            },
          );
          // Settles at the ack; processing goes on after it (the listener's work is not awaited by Slack).
          const response = await Promise.race([acked, processed]);
          if (response === failed) {
            return reply.code(500).send(errorBody('internal', 'the Slack interaction failed', req.id));
          }
          if (response === unacked) {
            return reply.code(404).send(errorBody('not_found', 'no handler for this Slack payload', req.id));
          }
          if (response === '' || response === undefined) return reply.code(200).send();
          return reply.code(200).send(response);
        },
      );
    });
  }
}
