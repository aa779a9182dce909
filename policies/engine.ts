// The policy engine the grant workflow's policy activity and the API call. Loading reads and checks
// every file once; after that each method is synchronous, does no I/O and returns plain JSON values
// (decisions are recorded in Temporal history).
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatDuration } from '../common/duration.js';
import { type OnCallSource, scheduleSource } from '../common/oncall.js';
import { Authorizer, type Context } from './authorizer.js';
import { loadCatalog } from './catalog.js';
import { loadCedarSources } from './cedar-files.js';
import { explainRefusal } from './explain.js';
import type {
  ApproveDecision,
  CatalogRole,
  CatalogWorkload,
  GrantFacts,
  Principal,
  RequestContext,
  RequestDecision,
  RevokeDecision,
} from './types.js';
import { WorkloadMatcher } from './workloads.js';

export { PolicyLoadError } from './load-error.js';
export type * from './types.js';

/** The folder holding schema.cedarschema, policies.cedar and catalog.yaml (this one). */
export const POLICIES_DIR = fileURLToPath(new URL('.', import.meta.url));

/** Session tags carry the ticket; STS limits tag values, and no real ticket id is this long. */
const MAX_TICKET_LENGTH = 128;

export class PolicyEngine {
  private readonly byId: Map<string, CatalogRole>;
  private readonly ticketPatterns = new Map<string, RegExp>();
  /** Which catalog workload a token or a queue sender is. */
  readonly workloads: WorkloadMatcher;

  private constructor(
    private readonly authorizer: Authorizer,
    private readonly catalog: readonly CatalogRole[],
    /** Who is on call (Cedar context `onCall`): the catalog's schedule unless load() was given another. */
    private readonly onCall: OnCallSource,
    workloads: readonly CatalogWorkload[],
  ) {
    this.workloads = new WorkloadMatcher(workloads);
    this.byId = new Map(catalog.map((role) => [role.id, role]));
    for (const role of catalog) {
      // The whole ticket must match, whether or not the pattern is anchored.
      if (role.ticketPattern) this.ticketPatterns.set(role.id, new RegExp(`^(?:${role.ticketPattern})$`));
    }
  }

  /**
   * Reads, parses and validates the schema, the policies and the catalog in `dir`. Synchronous
   * (cedar-wasm is); throws PolicyLoadError naming file, line and column of every problem.
   */
  static load(dir: string = POLICIES_DIR, opts: { onCall?: OnCallSource } = {}): PolicyEngine {
    const sources = loadCedarSources(join(dir, 'schema.cedarschema'), join(dir, 'policies.cedar'));
    const file = loadCatalog(join(dir, 'catalog.yaml'));
    const catalog = file.roles.map(deepFreeze);
    return new PolicyEngine(
      new Authorizer(sources, catalog),
      catalog,
      opts.onCall ?? scheduleSource(file.onCall),
      file.workloads.map(deepFreeze),
    );
  }

  /** Whether the schedule has this person on call at `at`. */
  isOnCall(principal: Principal, at: Date = new Date()): boolean {
    return this.onCall.isOnCall(principal, at);
  }

  /** Every role of the catalog (frozen; copy before changing). */
  roles(): CatalogRole[] {
    return [...this.catalog];
  }

  role(id: string): CatalogRole | undefined {
    return this.byId.get(id);
  }

  /** Roles the principal may request at all: for the role's full maximum, with a ticket if needed. */
  requestableRoles(principal: Principal, now: Date = new Date()): CatalogRole[] {
    return this.catalog.filter((role) => {
      const context = {
        ...requestContext(role, role.maxDurationSeconds, 'listing', 'TICKET', role.breakGlass, now),
        onCall: this.onCall.isOnCall(principal, now),
      };
      const decision = this.authorizer.onRole(principal, 'request', role.id, context);
      return decision.allow && decision.errors.length === 0;
    });
  }

  /** Whether policy refuses this principal's request for the role without a ticket. */
  ticketRequired(principal: Principal, roleId: string, now: Date = new Date()): boolean {
    const role = this.byId.get(roleId);
    if (!role) return false;
    const context = {
      ...requestContext(role, role.maxDurationSeconds, 'listing', undefined, role.breakGlass, now),
      onCall: this.onCall.isOnCall(principal, now),
    };
    const decision = this.authorizer.onRole(principal, 'request', role.id, context);
    return !(decision.allow && decision.errors.length === 0);
  }

  evaluateRequest(principal: Principal, roleId: string, ctx: RequestContext): RequestDecision {
    const role = this.byId.get(roleId);
    if (!role) return refused(undefined, [`unknown role "${roleId}"`]);
    if (!Number.isSafeInteger(ctx.durationSeconds) || ctx.durationSeconds <= 0) {
      return refused(role, ['duration must be a positive whole number of seconds']);
    }
    const ticket = ctx.ticket?.trim() || undefined;
    const breakGlass = ctx.breakGlass ?? role.breakGlass;
    const context = {
      ...requestContext(role, ctx.durationSeconds, ctx.reason, ticket, breakGlass, ctx.now),
      onCall: this.onCall.isOnCall(principal, ctx.now),
      ...(ctx.onBehalfOf ? { onBehalfOf: ctx.onBehalfOf.sub } : {}),
    };

    // Checks Cedar cannot express: ticket format (regex) and the total cap across extensions.
    const reasons = [...this.ticketProblems(role, ticket), ...totalProblems(role, ctx)];
    const request = this.authorizer.onRole(principal, 'request', role.id, context);
    if (!request.allow) {
      reasons.push(...explainRefusal(role, principal, ctx.durationSeconds, request.policyIds));
    }
    // A policy that fails to evaluate is skipped by Cedar; if it was a forbid, that would allow.
    reasons.push(...request.errors);
    if (reasons.length > 0) return refused(role, reasons, request.allow ? [] : request.policyIds);

    // A workload asking for a person needs a policy saying it may (action actFor).
    const actFor = ctx.onBehalfOf
      ? this.authorizer.onRole(principal, 'actFor', role.id, context)
      : { allow: true, policyIds: [], errors: [] };
    if (!actFor.allow || actFor.errors.length > 0) {
      return refused(
        role,
        [`no policy lets ${principal.sub} ask for ${role.id} on behalf of someone`, ...actFor.errors],
        actFor.policyIds,
      );
    }

    const auto = this.authorizer.onRole(principal, 'autoApprove', role.id, context);
    const autoApproved = auto.allow && auto.errors.length === 0;
    // A policy may lower the approvals a request needs to one (e.g. for on-call engineers).
    const one =
      !autoApproved && role.approvalsRequired > 1
        ? this.authorizer.onRole(principal, 'oneApproval', role.id, context)
        : undefined;
    const oneApproval = one?.allow === true && one.errors.length === 0;
    return {
      allowed: true,
      autoApproved,
      breakGlass,
      // Never "0 approvals" without auto-approval: the catalog rules it out, this keeps it so.
      approvalsRequired: autoApproved ? 0 : oneApproval ? 1 : Math.max(1, role.approvalsRequired),
      reviewerGroups: [...role.reviewerGroups],
      approvalTimeoutSeconds: role.approvalTimeoutSeconds,
      policyIds: [
        ...request.policyIds,
        ...actFor.policyIds,
        ...(autoApproved ? auto.policyIds : []),
        ...(oneApproval && one ? one.policyIds : []),
      ],
      reasons: [],
    };
  }

  mayApprove(
    principal: Principal,
    roleId: string,
    requesterSub: string,
    grant: GrantFacts = {},
  ): ApproveDecision {
    const isRequester = principal.sub === requesterSub;
    const context = this.decisionContext(roleId, requesterSub, isRequester, grant);
    if (!context) return { allowed: false, policyIds: [], reason: 'not_eligible' };
    const decision = this.authorizer.onRole(principal, 'approve', roleId, context);
    if (decision.allow && decision.errors.length === 0) {
      return { allowed: true, policyIds: decision.policyIds };
    }
    return {
      allowed: false,
      policyIds: decision.policyIds,
      reason: isRequester ? 'self_approval' : 'not_eligible',
    };
  }

  mayRevoke(
    principal: Principal,
    roleId: string,
    requesterSub: string,
    grant: GrantFacts = {},
  ): RevokeDecision {
    const context = this.decisionContext(roleId, requesterSub, principal.sub === requesterSub, grant);
    if (!context) return { allowed: false, policyIds: [] };
    const decision = this.authorizer.onRole(principal, 'revoke', roleId, context);
    return { allowed: decision.allow && decision.errors.length === 0, policyIds: decision.policyIds };
  }

  /** May this principal decide the post-hoc review of a break-glass grant of this role? */
  mayReview(
    principal: Principal,
    roleId: string,
    requesterSub: string,
    grant: GrantFacts = {},
  ): ApproveDecision {
    const isRequester = principal.sub === requesterSub;
    const context = this.decisionContext(roleId, requesterSub, isRequester, grant);
    if (!context) return { allowed: false, policyIds: [], reason: 'not_eligible' };
    const decision = this.authorizer.onRole(principal, 'review', roleId, context);
    if (decision.allow && decision.errors.length === 0)
      return { allowed: true, policyIds: decision.policyIds };
    return {
      allowed: false,
      policyIds: decision.policyIds,
      reason: isRequester ? 'self_approval' : 'not_eligible',
    };
  }

  mayAudit(principal: Principal): boolean {
    const decision = this.authorizer.onAuditTrail(principal);
    return decision.allow && decision.errors.length === 0;
  }

  mayDecodePayloads(principal: Principal): boolean {
    const decision = this.authorizer.onAuditTrail(principal, 'decodePayloads');
    return decision.allow && decision.errors.length === 0;
  }

  /** The kill switch: may this principal end everything `targetSub` holds? */
  mayRevokeAll(principal: Principal, targetSub: string): RevokeDecision {
    const decision = this.authorizer.onPrincipal(principal, 'revokeAll', targetSub);
    return { allowed: decision.allow && decision.errors.length === 0, policyIds: decision.policyIds };
  }

  private ticketProblems(role: CatalogRole, ticket: string | undefined): string[] {
    if (ticket === undefined) return [];
    if (ticket.length > MAX_TICKET_LENGTH) return [`ticket is longer than ${MAX_TICKET_LENGTH} characters`];
    const pattern = this.ticketPatterns.get(role.id);
    return pattern && !pattern.test(ticket)
      ? [`ticket "${ticket}" does not match ${role.ticketPattern}`]
      : [];
  }

  /** Context for approve/revoke; facts the caller did not pass default to neutral values. */
  private decisionContext(
    roleId: string,
    requesterSub: string,
    isRequester: boolean,
    grant: GrantFacts,
  ): Context | undefined {
    const role = this.byId.get(roleId);
    if (!role) return undefined;
    const duration = grant.durationSeconds;
    return {
      ...requestContext(
        role,
        Number.isSafeInteger(duration) ? (duration as number) : 0,
        grant.reason ?? '',
        grant.ticket?.trim() || undefined,
        grant.breakGlass ?? role.breakGlass,
        grant.now ?? new Date(),
      ),
      requester: requesterSub,
      isRequester,
      escalated: grant.escalated === true,
    };
  }
}

function requestContext(
  role: CatalogRole,
  durationSeconds: number,
  reason: string,
  ticket: string | undefined,
  breakGlass: boolean,
  now: Date,
): Context {
  const hourUtc = now.getUTCHours();
  if (Number.isNaN(hourUtc)) throw new TypeError(`invalid date for a ${role.id} decision`);
  return {
    durationSeconds,
    reason: reason.trim(),
    ...(ticket === undefined ? {} : { ticket }),
    hasTicket: ticket !== undefined,
    breakGlass,
    hourUtc,
  };
}

function totalProblems(role: CatalogRole, ctx: RequestContext): string[] {
  const already = ctx.alreadyGrantedSeconds;
  if (already === undefined) return [];
  if (!Number.isSafeInteger(already) || already < 0) {
    return ['alreadyGrantedSeconds must be a whole number >= 0'];
  }
  const total = already + ctx.durationSeconds;
  if (total <= role.maxTotalDurationSeconds) return [];
  return [
    `total ${formatDuration(total)} would exceed the role's cap of ${formatDuration(role.maxTotalDurationSeconds)}`,
  ];
}

function refused(
  role: CatalogRole | undefined,
  reasons: string[],
  policyIds: string[] = [],
): RequestDecision {
  return {
    allowed: false,
    autoApproved: false,
    breakGlass: false,
    approvalsRequired: role?.approvalsRequired ?? 0,
    reviewerGroups: role ? [...role.reviewerGroups] : [],
    approvalTimeoutSeconds: role?.approvalTimeoutSeconds ?? 0,
    policyIds,
    reasons: [...new Set(reasons)],
  };
}

function deepFreeze<T extends object>(value: T): T {
  for (const field of Object.values(value))
    if (typeof field === 'object' && field !== null) Object.freeze(field);
  return Object.freeze(value);
}
