// Every activity the worker registers: thin Temporal adapters over store/, integrations/ and
// policies/, built once per process. `satisfies BrokerActivities` keeps them in step with the
// contract the workflows call (common/activities.ts).
import type { Client } from '@temporalio/client';
import type { BrokerActivities } from '../common/activities.js';
import { awsOperations, createAwsClients } from '../integrations/aws.js';
import { fileDirectory } from '../integrations/directory.js';
import { createSlackClient } from '../integrations/slack/client.js';
import { createStepFunctionsClient, stepFunctionsOperations } from '../integrations/stepfunctions.js';
import type { Config } from '../platform/config.js';
import type { PolicyEngine } from '../policies/engine.js';
import { type AuditStore, openAuditStore } from '../store/index.js';
import { type AuditObserver, createAuditActivities } from './audit.js';
import { createAwsActivities } from './aws.js';
import { createLedgerActivities } from './ledger.js';
import { createPolicyActivities } from './policy.js';
import { createReconcileActivities } from './reconcile.js';
import { createReviewerActivities } from './reviewers.js';
import { createSlackActivities } from './slack.js';
import { createStepFunctionsActivities } from './stepfunctions.js';

export interface ActivityDeps {
  config: Pick<Config, 'AWS_REGION' | 'AWS_ENDPOINT_URL' | 'DATABASE_URL' | 'TEMPORAL_TASK_QUEUE'> &
    Partial<
      Pick<Config, 'SLACK_BOT_TOKEN' | 'SLACK_API_URL' | 'JIT_DIRECTORY_FILE' | 'JIT_LEDGER_WRITER_ROLE'>
    >;
  engine: PolicyEngine;
  /** Temporal client (with the payload codec) for signal-with-start of revocation ledgers. */
  client: Client;
  /** Sees every audit append (the worker's metrics). */
  auditObserver?: (store: AuditStore) => AuditObserver;
}

export async function createActivities({ config, engine, client, auditObserver }: ActivityDeps) {
  const clients = createAwsClients({
    region: config.AWS_REGION,
    endpoint: config.AWS_ENDPOINT_URL,
    ledgerWriterRole: config.JIT_LEDGER_WRITER_ROLE,
  });
  const aws = awsOperations(clients);
  const stepFunctions = createStepFunctionsClient({
    region: config.AWS_REGION,
    endpoint: config.AWS_ENDPOINT_URL,
  });
  const store = await openAuditStore(config.DATABASE_URL);
  const slack = config.SLACK_BOT_TOKEN
    ? createSlackClient({
        botToken: config.SLACK_BOT_TOKEN,
        apiUrl: config.SLACK_API_URL ?? 'https://slack.com/api/',
      })
    : undefined;
  const ledger = createLedgerActivities({ client, taskQueue: config.TEMPORAL_TASK_QUEUE });
  // Who the reviewers are, for reminders (read again when the file changes).
  const directory = config.JIT_DIRECTORY_FILE ? fileDirectory(config.JIT_DIRECTORY_FILE) : undefined;
  const activities = {
    ...createAwsActivities({ aws, hasEnded: (id) => store.grants.hasEnded(id) }),
    ...createPolicyActivities({ engine, slack: slack !== undefined }),
    ...createSlackActivities(slack),
    ...createAuditActivities({ store, observer: auditObserver?.(store) }),
    ...ledger,
    ...createReconcileActivities({ store, client, aws, engine, coverSessions: ledger.coverSessions }),
    ...createReviewerActivities({ engine, directory, slack }),
    ...createStepFunctionsActivities({ sfn: stepFunctionsOperations(stepFunctions) }),
  } satisfies BrokerActivities;
  return {
    activities,
    /** For the worker's own checks (its identity in AWS, the key canaries). */
    aws,
    store,
    close: async () => {
      clients.destroy();
      stepFunctions.destroy();
      await store.close();
    },
  };
}
