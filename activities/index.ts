import type { Client } from '@temporalio/client';
import type { Config } from '../common/config.js';
import type { PolicyEngine } from '../policies/engine.js';
import { createAuditActivities } from './audit/index.js';
import { openAuditStore } from './audit/store.js';
import { createAwsActivities, createAwsClients } from './aws.js';
import { createLedgerActivities } from './ledger.js';
import { createPolicyActivities } from './policy.js';
import { createSlackClient } from './slack/client.js';
import { createSlackActivities } from './slack/index.js';

export interface ActivityDeps {
  config: Pick<Config, 'AWS_REGION' | 'AWS_ENDPOINT_URL' | 'DATABASE_URL' | 'TEMPORAL_TASK_QUEUE'> &
    Partial<Pick<Config, 'SLACK_BOT_TOKEN' | 'SLACK_API_URL'>>;
  engine: PolicyEngine;
  /** Temporal client (with the payload codec) for signal-with-start of revocation ledgers. */
  client: Client;
}

/** Every activity the worker registers, built once per process with its outside-system clients. */
export async function createActivities({ config, engine, client }: ActivityDeps) {
  const aws = createAwsClients({ region: config.AWS_REGION, endpoint: config.AWS_ENDPOINT_URL });
  const store = await openAuditStore(config.DATABASE_URL);
  const slack = config.SLACK_BOT_TOKEN
    ? createSlackClient({
        botToken: config.SLACK_BOT_TOKEN,
        apiUrl: config.SLACK_API_URL ?? 'https://slack.com/api/',
      })
    : undefined;
  return {
    activities: {
      ...createAwsActivities(aws),
      ...createPolicyActivities({ engine, slack: slack !== undefined }),
      ...createSlackActivities(slack),
      ...createAuditActivities({ store }),
      ...createLedgerActivities({ client, taskQueue: config.TEMPORAL_TASK_QUEUE }),
    },
    close: async () => {
      aws.sts.destroy();
      aws.iam.destroy();
      await store.close();
    },
  };
}

export type Activities = Awaited<ReturnType<typeof createActivities>>['activities'];
