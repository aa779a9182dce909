// The worker's Prometheus metrics: every grant transition, counted from the audit trail's appends
// (an append is idempotent on the event id, so a retried activity never counts twice), the times
// that matter (request to decision and to activation, expiry lag, grant end to deny-ledger entry),
// credentials, the deny ledger, Slack and the audit store; and each activity's outcome and time.
// Labels are bounded: catalog role ids, event types, activity names. Never a grant id, a user or a reason.
import type { Context as ActivityContext } from '@temporalio/activity';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { createSlackActivities } from '../activities/slack.js';
import type { AuditEventInput } from '../common/audit-event.js';
import { ROLE_INLINE_POLICY_LIMIT } from '../common/revocation-policy.js';
import { annotateGrant } from '../platform/telemetry.js';
import type { PolicyEngine } from '../policies/engine.js';
import type { AppendResult, AuditStore } from '../store/index.js';

/** What each grant event is, as a transition operators count. */
const transitionOf: Partial<Record<AuditEventInput['type'], string>> = {
  'grant.requested': 'requested',
  'grant.denied': 'denied',
  'grant.cancelled': 'cancelled',
  'grant.timed_out': 'timed_out',
  'grant.activated': 'activated',
  'grant.extended': 'extended',
  'grant.expired': 'expired',
  'grant.revoked': 'revoked',
  'grant.failed': 'failed',
};
export const transitions = ['requested', 'approved', ...new Set(Object.values(transitionOf))];

/** Activities that talk to Slack: their failures and retries are the Slack backlog. */
const slackActivities = new Set([...Object.keys(createSlackActivities(undefined)), 'remindReviewers']);
/** A Slack call failing for longer than this is no longer counted as waiting (Temporal gave up). */
const SLACK_BACKLOG_TTL_MS = 60 * 60 * 1000;
const OTHER = 'other';

const seconds = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600];
const lag = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300];

export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly roleIds: Set<string>;
  /** IAM role name (what ledger events carry) to catalog role id. */
  private readonly roleByName: Map<string, string>;
  private readonly slackWaiting = new Map<string, number>();

  private readonly transitions = this.counter(
    'jit_grant_transitions_total',
    'Grant transitions recorded in the audit trail, by transition and role',
    ['transition', 'role'],
  );
  private readonly decision = this.histogram(
    'jit_grant_decision_seconds',
    'Time from a request to its decision (approved, denied, timed_out, cancelled), by role and outcome',
    ['role', 'outcome'],
    seconds,
  );
  private readonly activation = this.histogram(
    'jit_grant_activation_seconds',
    'Time from a request to its activation, by role',
    ['role'],
    seconds,
  );
  private readonly expiryLag = this.histogram(
    'jit_grant_expiry_lag_seconds',
    'Time from a grant’s expiry to its end being recorded (sessions handed to the deny ledger first), by role',
    ['role'],
    lag,
  );
  private readonly ledgerLag = this.histogram(
    'jit_ledger_deny_lag_seconds',
    'Time from an expired grant’s end to the deny-ledger entry for its live sessions, by role',
    ['role'],
    lag,
  );
  private readonly credentials = this.counter(
    'jit_credentials_issued_total',
    'Credential issuances (STS sessions handed out), by role',
    ['role'],
  );
  private readonly ledgerEntries = this.counter(
    'jit_ledger_entries_total',
    'Sessions added to or removed from a role’s deny ledger, by role and change',
    ['role', 'change'],
  );
  private readonly ledgerSize = new Gauge({
    name: 'jit_ledger_policy_chars',
    help: 'Size of a role’s deny policy as IAM counts it (characters, whitespace excluded), by role',
    labelNames: ['role'],
    registers: [this.registry],
  });
  private readonly ledgerOverflows = this.counter(
    'jit_ledger_overflows_total',
    'Deny ledgers that overflowed IAM’s limit and fell back to a cutoff on token issue time, by role',
    ['role'],
  );
  private readonly auditEvents = this.counter(
    'jit_audit_events_total',
    'Events appended to the audit trail, by type',
    ['type'],
  );
  private readonly auditAppend = this.histogram(
    'jit_audit_append_seconds',
    'Time to append one batch to the audit trail (and fold it into the read model)',
    ['outcome'],
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  );
  private readonly activityTime = this.histogram(
    'jit_activity_duration_seconds',
    'Time of one activity attempt, by activity and outcome',
    ['activity', 'outcome'],
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  );
  private readonly slackFailures = this.counter(
    'jit_slack_failures_total',
    'Failed Slack calls (activity attempts), by activity',
    ['activity'],
  );

  constructor(
    engine: Pick<PolicyEngine, 'roles'>,
    private readonly store: Pick<AuditStore, 'grants'>,
  ) {
    collectDefaultMetrics({ register: this.registry });
    const roles = engine.roles();
    this.roleIds = new Set(roles.map((r) => r.id));
    this.roleByName = new Map(roles.map((r) => [r.arn.split('/').pop() ?? r.arn, r.id]));
    const waiting = this.slackWaiting;
    new Gauge({
      name: 'jit_slack_backlog',
      help: 'Slack calls that failed and wait for a retry (this worker’s)',
      registers: [this.registry],
      collect() {
        const now = Date.now();
        for (const [key, since] of waiting) if (now - since > SLACK_BACKLOG_TTL_MS) waiting.delete(key);
        this.set(waiting.size);
      },
    });
    new Gauge({
      name: 'jit_ledger_policy_limit_chars',
      help: 'IAM’s limit on a role’s inline policies (characters, whitespace excluded)',
      registers: [this.registry],
    }).set(ROLE_INLINE_POLICY_LIMIT);
    // Every series a dashboard or alert reads exists from the start, at zero.
    for (const role of this.roleIds) {
      for (const transition of transitions) this.transitions.inc({ transition, role }, 0);
      this.credentials.inc({ role }, 0);
      this.ledgerOverflows.inc({ role }, 0);
    }
    for (const activity of slackActivities) this.slackFailures.inc({ activity }, 0);
  }

  private counter(name: string, help: string, labelNames: string[]) {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  private histogram(name: string, help: string, labelNames: string[], buckets: number[]) {
    return new Histogram({ name, help, labelNames, buckets, registers: [this.registry] });
  }

  private role(id: string): string {
    return this.roleIds.has(id) ? id : (this.roleByName.get(id) ?? OTHER);
  }

  /** Times one append to the audit trail. */
  async timeAppend<T>(append: () => Promise<T>): Promise<T> {
    const end = this.auditAppend.startTimer();
    try {
      const result = await append();
      end({ outcome: 'ok' });
      return result;
    } catch (err) {
      end({ outcome: 'failed' });
      throw err;
    }
  }

  /** Counts the events an append wrote; events already recorded (a retry) are skipped. */
  async appended(events: readonly AuditEventInput[], results: readonly AppendResult[]): Promise<void> {
    const requestedAt = new Map<string, number>();
    for (const [i, event] of events.entries()) {
      if (event.type === 'grant.requested') requestedAt.set(event.grantId, Date.parse(event.occurredAt));
      if (!results[i]?.inserted) continue;
      try {
        await this.count(event, requestedAt);
      } catch {
        // A metric is never worth failing an audit append for.
      }
    }
  }

  private async count(event: AuditEventInput, requestedAt: Map<string, number>): Promise<void> {
    this.auditEvents.inc({ type: event.type });
    const role = this.role(event.roleId);
    const at = Date.parse(event.occurredAt);
    const data = event.data as Record<string, unknown>;
    const since = async () => {
      const known = requestedAt.get(event.grantId);
      if (known !== undefined) return known;
      const view = await this.store.grants.get(event.grantId);
      return view ? Date.parse(view.createdAt) : undefined;
    };
    const decided = async (outcome: string) => {
      const start = await since();
      if (start !== undefined) this.decision.observe({ role, outcome }, Math.max(0, (at - start) / 1000));
    };

    const transition = transitionOf[event.type];
    if (transition) this.transitions.inc({ transition, role });
    switch (event.type) {
      case 'grant.requested':
        if (data.allowed === true && data.autoApproved === true) {
          this.transitions.inc({ transition: 'approved', role });
          this.decision.observe({ role, outcome: 'approved' }, 0);
        }
        break;
      case 'grant.approval_recorded':
        if (data.extension !== true && typeof data.of === 'number' && data.approvals === data.of) {
          this.transitions.inc({ transition: 'approved', role });
          await decided('approved');
        }
        break;
      case 'grant.denied':
      case 'grant.timed_out':
      case 'grant.cancelled':
        await decided(transition as string);
        break;
      case 'grant.activated': {
        const start = await since();
        if (start !== undefined) this.activation.observe({ role }, Math.max(0, (at - start) / 1000));
        break;
      }
      case 'grant.expired': {
        const view = await this.store.grants.get(event.grantId);
        if (view?.expiresAt)
          this.expiryLag.observe({ role }, Math.max(0, (at - Date.parse(view.expiresAt)) / 1000));
        break;
      }
      case 'grant.credentials_issued':
        this.credentials.inc({ role });
        break;
      case 'ledger.entries_added':
      case 'ledger.entries_removed': {
        const entries = Array.isArray(data.entries) ? (data.entries as { grantId?: unknown }[]) : [];
        const change = event.type === 'ledger.entries_added' ? 'added' : 'removed';
        this.ledgerEntries.inc({ role, change }, entries.length);
        if (typeof data.policySize === 'number') this.ledgerSize.set({ role }, data.policySize);
        if (change === 'removed') break;
        // The overflow sets the cutoff to the moment it happened: the event's own time.
        if (data.issuedBefore === event.occurredAt) this.ledgerOverflows.inc({ role });
        const grants = new Set(entries.map((e) => e.grantId).filter((id) => typeof id === 'string'));
        for (const id of grants) {
          const view = await this.store.grants.get(id as string);
          const expiry = view?.expiresAt ? Date.parse(view.expiresAt) : Number.NaN;
          if (expiry <= at) this.ledgerLag.observe({ role }, (at - expiry) / 1000);
        }
        break;
      }
    }
  }

  /** The activity interceptor: outcome and time of every attempt, the grant on its span, Slack's backlog. */
  activityInterceptor = (ctx: ActivityContext): { inbound: ActivityInboundCallsInterceptor } => ({
    inbound: {
      execute: async (
        input: ActivityExecuteInput,
        next: Next<ActivityInboundCallsInterceptor, 'execute'>,
      ) => {
        const { activityType, workflowExecution, activityId } = ctx.info;
        const grantId = workflowExecution?.workflowId;
        if (grantId?.startsWith('grant-')) annotateGrant({ grantId });
        const key = `${grantId}/${activityId}`;
        const slack = slackActivities.has(activityType);
        const activity = slack || this.activityNames.has(activityType) ? activityType : OTHER;
        const end = this.activityTime.startTimer();
        try {
          const result = await next(input);
          end({ activity, outcome: 'ok' });
          if (slack) this.slackWaiting.delete(key);
          return result;
        } catch (err) {
          end({ activity, outcome: 'failed' });
          if (slack) {
            this.slackFailures.inc({ activity });
            const final = (err as { nonRetryable?: boolean }).nonRetryable === true;
            if (final) this.slackWaiting.delete(key);
            else if (!this.slackWaiting.has(key)) this.slackWaiting.set(key, Date.now());
          }
          throw err;
        }
      },
    },
  });

  /** The registered activities' names (the label set of jit_activity_duration_seconds). */
  activityNames = new Set<string>();
}
