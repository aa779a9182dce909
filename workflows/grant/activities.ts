// How the grant workflow calls each activity. In-process and short steps are local activities (no
// round trip to the server, and a decision that needs one is answered in the same workflow task).
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { BrokerActivities } from '../../common/activities.js';

/** Cedar and the catalog: no I/O. A policy-input error is non-retryable (the activity says so). */
export const { evaluateGrantRequest } = proxyLocalActivities<BrokerActivities>({
  startToCloseTimeout: '5 seconds',
  retry: { initialInterval: '100 milliseconds', maximumInterval: '1 second', maximumAttempts: 3 },
});

/**
 * STS: retried inside the caller's wait. The whole attempt ends well before the API stops waiting
 * (platform/grant-client.ts), so a caller is never told "failed" about a session it did not get.
 */
export const { assumeRole } = proxyLocalActivities<BrokerActivities>({
  startToCloseTimeout: '4 seconds',
  scheduleToCloseTimeout: '9 seconds',
  retry: { initialInterval: '300 milliseconds', backoffCoefficient: 2, maximumInterval: '2 seconds' },
});

// Audit rows and ledger hand-offs must land: retried until they do (non-retryable errors aside).
export const { recordAuditEvents, coverSessions } = proxyLocalActivities<BrokerActivities>({
  startToCloseTimeout: '10 seconds',
  localRetryThreshold: '10 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '30 seconds' },
});

// Slack is best effort but patient: retried for a day so messages catch up after an outage, and
// never awaited by a decision.
export const {
  postApprovalMessage,
  updateApprovalMessage,
  notifyRequester,
  bumpMessage,
  postReviewMessage,
  updateReviewMessage,
} = proxyActivities<BrokerActivities>({
  startToCloseTimeout: '15 seconds',
  scheduleToCloseTimeout: '24 hours',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

// One DM per eligible reviewer, so longer than one Slack call; retried like the other Slack steps.
export const { remindReviewers } = proxyActivities<BrokerActivities>({
  startToCloseTimeout: '2 minutes',
  scheduleToCloseTimeout: '24 hours',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

// Step Functions answers (callbacks.ts): retried through short outages; a task that stopped waiting
// is an answer, not a failure. Bounded, so a long outage ends the attempt and the watch goes on.
export const { sendTaskHeartbeat, sendTaskSuccess, sendTaskFailure, describeExecution } =
  proxyActivities<BrokerActivities>({
    startToCloseTimeout: '10 seconds',
    scheduleToCloseTimeout: '5 minutes',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
  });
