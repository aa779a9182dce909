// The Step Functions front door: one queue message in, one decision out. It authenticates the
// sender by the identity AWS reports (SQS SenderId, mapped to a catalog workload), never by a field
// of the message; checks the named execution runs as that workload's role; then starts the grant
// through the same GrantService as the API (Cedar, signed with door `queue`) with an id derived
// from the execution, state and entry time, so a redelivered message starts nothing new. Refusals
// go back on the task token with a stable error name. Nothing here logs a message body or token.
import { ApiError } from '../api/errors.js';
import type { GrantService } from '../api/grant-service.js';
import { parseDuration } from '../common/duration.js';
import type { Principal } from '../common/grant.js';
import {
  type HandoffRelease,
  type HandoffRequest,
  handoffErrors,
  handoffMessage,
} from '../common/handoff.js';
import { workloadSub } from '../common/identity.js';
import type { ReceivedMessage } from '../integrations/sqs.js';
import type { StepFunctionsOperations } from '../integrations/stepfunctions.js';
import type { CatalogWorkload } from '../policies/types.js';
import type { SenderDirectory } from './senders.js';

/** Delete the message (answered, or nothing to answer), or leave it for a redelivery. */
export type Outcome = { done: true; result: string; grantId?: string } | { done: false; retry: string };

/** Refusals that will not change on a retry: answered on the task token, the message deleted. */
const REFUSED: Partial<Record<string, string>> = {
  policy_denied: handoffErrors.policyDenied,
  unknown_role: handoffErrors.invalidRequest,
  invalid_argument: handoffErrors.invalidRequest,
  validation_failed: handoffErrors.invalidRequest,
  idempotency_conflict: handoffErrors.invalidRequest,
  not_eligible: handoffErrors.policyDenied,
};

export interface DoorDeps {
  service: GrantService;
  senders: SenderDirectory;
  sfn: Pick<StepFunctionsOperations, 'sendTaskFailure' | 'executionRole'>;
  /** How often grants check that their execution still runs (JIT_HANDOFF_WATCH_SECONDS). */
  watchSeconds: number;
  log: { info(detail: object, message: string): void; warn(detail: object, message: string): void };
}

export class HandoffDoor {
  constructor(private readonly deps: DoorDeps) {}

  async handle(message: ReceivedMessage): Promise<Outcome> {
    const { log } = this.deps;
    let body: unknown;
    try {
      body = JSON.parse(message.body);
    } catch {
      body = undefined;
    }
    // Only to answer a refusal; everything else is read after the schema check.
    const token =
      body && typeof body === 'object' && typeof (body as { taskToken?: unknown }).taskToken === 'string'
        ? ((body as { taskToken: string }).taskToken as string)
        : undefined;
    const refuse = async (error: string, cause: string): Promise<Outcome> => {
      log.warn(
        { messageId: message.messageId, senderId: message.senderId, error, cause },
        'queue message refused',
      );
      if (token) await this.answerFailure(token, error, cause);
      return { done: true, result: error };
    };

    const sender = await this.deps.senders.lookup(message.senderId);
    if (!sender) return refuse(handoffErrors.unauthorized, 'the sender is not a workload the broker knows');
    const parsed = handoffMessage.safeParse(body);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`);
      return refuse(handoffErrors.invalidRequest, problems.join('; '));
    }
    const request = parsed.data;

    // The execution must be one this workload runs: its state machine's role is the workload's.
    const executionArn = request.execution;
    let awsRole = sender.awsRole;
    if (executionArn) {
      const execution = await this.deps.sfn.executionRole(executionArn);
      if (!execution) return refuse(handoffErrors.unauthorized, `no execution ${executionArn}`);
      const roleOk = sender.awsRole
        ? execution.roleArn === sender.awsRole
        : sender.workload.awsRoles.includes(execution.roleArn);
      if (!roleOk)
        return refuse(
          handoffErrors.unauthorized,
          `${executionArn} runs as ${execution.roleArn}, not as a role of workload ${sender.workload.name}`,
        );
      awsRole = execution.roleArn;
    } else if (request.action === 'request') {
      return refuse(handoffErrors.invalidRequest, 'execution: required');
    }
    const principal = workloadPrincipal(sender.workload, awsRole);
    return request.action === 'request'
      ? this.start(message, principal, request, refuse)
      : this.release(message, principal, request);
  }

  private async start(
    message: ReceivedMessage,
    principal: Principal,
    request: HandoffRequest,
    refuse: (error: string, cause: string) => Promise<Outcome>,
  ): Promise<Outcome> {
    let durationSeconds: number;
    try {
      durationSeconds = parseDuration(request.duration);
    } catch (err) {
      return refuse(handoffErrors.invalidRequest, `duration: ${(err as Error).message}`);
    }
    try {
      const { view, created } = await this.deps.service.start(
        principal,
        {
          role: request.role,
          durationSeconds,
          reason: request.reason,
          ...(request.ticket ? { ticket: request.ticket } : {}),
          ...(request.onBehalfOf
            ? {
                onBehalfOf: {
                  sub: request.onBehalfOf.sub,
                  ...(request.onBehalfOf.email ? { email: request.onBehalfOf.email } : {}),
                },
              }
            : {}),
        },
        {
          // Same execution, state and entry: the same grant, however often SQS delivers it.
          idempotencyKey: `sfn\n${request.execution}\n${request.state}\n${request.enteredTime ?? ''}`,
          door: 'queue',
          stepFunctions: {
            taskToken: request.taskToken,
            executionArn: request.execution,
            stateName: request.state,
            ...(request.heartbeatSeconds ? { heartbeatSeconds: request.heartbeatSeconds } : {}),
            watchSeconds: this.deps.watchSeconds,
          },
        },
      );
      this.deps.log.info(
        {
          messageId: message.messageId,
          grantId: view.id,
          workload: principal.sub,
          status: view.status,
          created,
        },
        created ? 'grant started for a state machine' : 'redelivered request: grant already started',
      );
      return { done: true, result: created ? 'started' : 'redelivered', grantId: view.id };
    } catch (err) {
      if (err instanceof ApiError) {
        const name = REFUSED[err.code];
        if (name) return refuse(name, err.message);
        // The workflow with this id has ended: it answered the task itself.
        if (err.code === 'already_decided') return { done: true, result: 'already answered' };
        return { done: false, retry: `${err.code}: ${err.message}` };
      }
      return { done: false, retry: String(err) };
    }
  }

  /** The state machine gives its grant back: revoked if active, cancelled if still pending. */
  private async release(
    message: ReceivedMessage,
    principal: Principal,
    request: HandoffRelease,
  ): Promise<Outcome> {
    const { service, log } = this.deps;
    const opts = { updateId: `queue:${message.messageId}`, door: 'queue' as const };
    try {
      const view = await service.get(principal, request.grantId);
      if (view.requester.sub !== principal.sub) return { done: true, result: 'not its grant' };
      let after = view;
      if (view.status === 'active') after = await service.revoke(principal, view.id, request.reason, opts);
      else if (view.status === 'pending') after = await service.cancel(principal, view.id, opts);
      log.info({ messageId: message.messageId, grantId: view.id, status: after.status }, 'grant released');
      return { done: true, result: `released (${after.status})`, grantId: view.id };
    } catch (err) {
      if (err instanceof ApiError) {
        // Gone, ended meanwhile, or never its grant: nothing to give back.
        if (['not_found', 'grant_not_active', 'grant_not_pending', 'already_decided'].includes(err.code))
          return { done: true, result: err.code, grantId: request.grantId };
        if (err.status < 500) {
          log.warn({ messageId: message.messageId, code: err.code }, 'release refused');
          return { done: true, result: err.code };
        }
        return { done: false, retry: `${err.code}: ${err.message}` };
      }
      return { done: false, retry: String(err) };
    }
  }

  private async answerFailure(taskToken: string, error: string, cause: string): Promise<void> {
    try {
      await this.deps.sfn.sendTaskFailure({ taskToken, error, cause });
    } catch (err) {
      // The refusal stands; the state machine times out instead of hearing it.
      this.deps.log.warn({ error, problem: (err as Error).message }, 'could not answer a refused task');
    }
  }
}

/** The principal a queue message acts as: the catalog workload, with the role it sent as. */
export function workloadPrincipal(workload: CatalogWorkload, awsRole?: string): Principal {
  return {
    kind: 'workload',
    sub: workloadSub(workload.name),
    groups: [],
    attributes: { issuer: 'aws', ...(awsRole ? { awsRole } : {}) },
  };
}
