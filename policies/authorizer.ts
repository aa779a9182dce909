// One Cedar authorization call against the loaded policy set. Schema and policies are parsed once
// (cedar-wasm keeps them in its own cache under a name); each call only sends entities and context.
import { randomUUID } from 'node:crypto';
// First: sets a V8 flag before Cedar's Wasm module loads (see the file).
import './v8-guard.js';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { workloadNameOf } from '../common/identity.js';
import type { CedarSources } from './cedar-files.js';
import type { CatalogRole, Principal } from './types.js';

export type RoleAction =
  | 'request'
  | 'autoApprove'
  | 'oneApproval'
  | 'actFor'
  | 'approve'
  | 'revoke'
  | 'review';
export type Context = Record<string, string | number | boolean>;

export interface CedarDecision {
  allow: boolean;
  /** `@id`s of the policies that determined the decision, sorted. */
  policyIds: string[];
  /** Policies that failed to evaluate; the engine treats any as a refusal. */
  errors: string[];
}

export class Authorizer {
  private readonly policySetId = `jit-policies-${randomUUID()}`;
  private readonly schemaName = `jit-schema-${randomUUID()}`;
  private readonly roles = new Map<string, cedar.EntityJson>();

  constructor(sources: CedarSources, roles: readonly CatalogRole[]) {
    const policies = cedar.preparsePolicySet(this.policySetId, { staticPolicies: sources.policies });
    const schema = cedar.preparseSchema(this.schemaName, sources.schema);
    for (const answer of [policies, schema]) {
      if (answer.type === 'failure') throw new Error(answer.errors.map((e) => e.message).join('; '));
    }
    for (const role of roles) this.roles.set(role.id, roleEntity(role));
  }

  /** Cedar's decision on one of the catalog's roles. */
  onRole(principal: Principal, action: RoleAction, roleId: string, context: Context): CedarDecision {
    const role = this.roles.get(roleId);
    if (!role) throw new Error(`no role "${roleId}" in the catalog`);
    return this.authorize(principal, action, role.uid, [principalEntity(principal), role], context);
  }

  /** Cedar's decision on the audit trail: reading it, or decoding Temporal payloads for operators. */
  onAuditTrail(principal: Principal, action: 'audit' | 'decodePayloads' = 'audit'): CedarDecision {
    return this.authorize(
      principal,
      action,
      { type: 'Jit::Audit', id: 'trail' },
      [principalEntity(principal)],
      {},
    );
  }

  /** Cedar's decision on another principal, known by its `sub` only (the kill switch). */
  onPrincipal(principal: Principal, action: 'revokeAll', targetSub: string): CedarDecision {
    return this.authorize(principal, action, uidOf(targetSub), [principalEntity(principal)], {});
  }

  private authorize(
    principal: Principal,
    action: string,
    resource: cedar.EntityUid,
    entities: cedar.EntityJson[],
    context: Context,
  ): CedarDecision {
    const answer = cedar.statefulIsAuthorized({
      principal: uidOf(principal.sub, principal.kind ?? 'person'),
      action: { type: 'Jit::Action', id: action },
      resource,
      context,
      entities,
      preparsedPolicySetId: this.policySetId,
      // Checks entities and context against the schema: a mismatch is an engine bug, not a denial.
      preparsedSchemaName: this.schemaName,
      validateRequest: true,
    });
    if (answer.type === 'failure') {
      throw new Error(
        `Cedar could not evaluate ${action}: ${answer.errors.map((e) => e.message).join('; ')}`,
      );
    }
    const { decision, diagnostics } = answer.response;
    return {
      allow: decision === 'allow',
      policyIds: [...diagnostics.reason].sort(),
      errors: diagnostics.errors.map(({ policyId, error }) => `policy "${policyId}": ${error.message}`),
    };
  }
}

/**
 * People are `Jit::User::"<sub>"`, workloads `Jit::Workload::"<catalog name>"`. An authenticated
 * principal says its kind; a target known by its `sub` alone is a workload by the reserved prefix.
 */
function uidOf(sub: string, kind?: Principal['kind']): cedar.TypeAndId {
  const name = workloadNameOf(sub);
  const workload = kind === undefined ? name !== undefined : kind === 'workload';
  if (workload && name !== undefined) return { type: 'Jit::Workload', id: name };
  return { type: 'Jit::User', id: sub };
}

function principalEntity(principal: Principal): cedar.EntityJson {
  const uid = uidOf(principal.sub, principal.kind ?? 'person');
  if (uid.type === 'Jit::Workload') {
    const { issuer = '', ...attributes } = principal.attributes ?? {};
    // Only attributes the schema declares; an absent one is absent (`principal has ref`).
    return { uid, attrs: { issuer, ...attributes }, parents: [] };
  }
  const groups = [...new Set(principal.groups)];
  return {
    uid,
    attrs: { email: principal.email ?? '', groups },
    parents: groups.map((id) => ({ type: 'Jit::Group', id })),
  };
}

function roleEntity(role: CatalogRole): cedar.EntityJson {
  return {
    uid: { type: 'Jit::Role', id: role.id },
    attrs: {
      account: role.account,
      maxDurationSeconds: role.maxDurationSeconds,
      approvalsRequired: role.approvalsRequired,
      requesterGroups: role.requesterGroups,
      reviewerGroups: role.reviewerGroups,
      breakGlass: role.breakGlass,
      autoApproveMaxSeconds: role.autoApproveMaxSeconds,
      escalationGroups: role.followUp.escalationGroup ? [role.followUp.escalationGroup] : [],
    },
    parents: [],
  };
}
