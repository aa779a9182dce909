// The Slack app inside the API process (POST /slack/events, a Bolt receiver). On only when
// SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are set; api/main.ts decides.
import { App, type Logger, LogLevel } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Directory } from '../../integrations/directory.js';
import type { GrantService } from '../grant-service.js';
import { registerSlackInteractions } from './interactions.js';
import { SlackEventsReceiver } from './receiver.js';
import { registerReviewInteractions } from './review-interactions.js';

export interface SlackAppDeps {
  signingSecret: string;
  botToken: string;
  /** The one Slack Web API client of the process (activities/slack/client.ts). */
  client: WebClient;
  directory: Directory | undefined;
}

/** Bolt logs through the API's pino logger, so redaction and levels apply to it too. */
function boltLogger(log: FastifyBaseLogger): Logger {
  let level = LogLevel.INFO;
  const text = (msg: unknown[]) => msg.map((m) => (m instanceof Error ? m.message : String(m))).join(' ');
  return {
    debug: (...msg) => log.debug({ component: 'bolt' }, text(msg)),
    info: (...msg) => log.info({ component: 'bolt' }, text(msg)),
    warn: (...msg) => log.warn({ component: 'bolt' }, text(msg)),
    error: (...msg) => log.error({ component: 'bolt' }, text(msg)),
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}

export function registerSlackApp(
  app: FastifyInstance,
  deps: SlackAppDeps & { grants: GrantService; log: FastifyBaseLogger },
): void {
  const receiver = new SlackEventsReceiver({ signingSecret: deps.signingSecret, log: deps.log });
  const bolt = new App({
    receiver,
    // A single workspace with a known bot token: no auth.test round trip on start or per event.
    authorize: async () => ({ botToken: deps.botToken }),
    ignoreSelf: false,
    logger: boltLogger(deps.log),
    clientOptions: { slackApiUrl: deps.client.slackApiUrl },
  });
  registerSlackInteractions(bolt, {
    grants: deps.grants,
    directory: deps.directory,
    slack: deps.client,
    log: deps.log,
  });
  registerReviewInteractions(bolt, {
    grants: deps.grants,
    directory: deps.directory,
    slack: deps.client,
    log: deps.log,
  });
  receiver.register(app);
}
