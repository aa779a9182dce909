// What a target account holds: the roles people get through the broker, their permissions
// boundaries, and the ledger-writer role the broker uses to deny revoked sessions.
import { Duration, Stack, Tags } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledge, awsManagedPolicyFinding, tokenArn } from './nag.js';
import {
  BOUNDARY_POLICY_PATH,
  BROKER_ROLE_PATH,
  LEDGER_WRITER_ROLE_NAME,
  REVOCATION_POLICY_NAME,
  SESSION_TAG_KEYS,
  TARGET_ROLE_PATH,
  TARGET_ROLE_TAG,
} from './names.js';

const arnIn = (stack: Stack, resource: string) => `arn:${stack.partition}:iam::${stack.account}:${resource}`;

/** Every target role of this account: `arn:…:role/jit/*`. */
export const targetRolesArn = (stack: Stack) => arnIn(stack, `role${TARGET_ROLE_PATH}*`);

/**
 * The default permissions boundary of target roles: everything, except what would let a session
 * undo its own revocation or lift its own ceiling (edit /jit/ and /jit-broker/ roles, change these
 * boundary policies, become the ledger writer, change the StackSet's stacks).
 */
export class JitGuardrailBoundary extends Construct {
  readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: { stackSetName: string }) {
    super(scope, id);
    const stack = Stack.of(this);
    const jitRoles = [arnIn(stack, `role${TARGET_ROLE_PATH}*`), arnIn(stack, `role${BROKER_ROLE_PATH}*`)];
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      managedPolicyName: 'jit-guardrail-boundary',
      path: BOUNDARY_POLICY_PATH,
      description: 'Ceiling of jit-broker target roles: everything but the JIT machinery',
      statements: [
        new iam.PolicyStatement({ sid: 'Ceiling', actions: ['*'], resources: ['*'] }),
        new iam.PolicyStatement({
          sid: 'NoChangesToJitRoles',
          effect: iam.Effect.DENY,
          actions: [
            'iam:AttachRolePolicy',
            'iam:CreateRole',
            'iam:DeleteRole',
            'iam:DeleteRolePermissionsBoundary',
            'iam:DeleteRolePolicy',
            'iam:DetachRolePolicy',
            'iam:PutRolePermissionsBoundary',
            'iam:PutRolePolicy',
            'iam:TagRole',
            'iam:UntagRole',
            'iam:UpdateAssumeRolePolicy',
            'iam:UpdateRole',
            'iam:UpdateRoleDescription',
          ],
          resources: jitRoles,
        }),
        new iam.PolicyStatement({
          sid: 'NoChangesToBoundaries',
          effect: iam.Effect.DENY,
          actions: [
            'iam:CreatePolicyVersion',
            'iam:DeletePolicy',
            'iam:DeletePolicyVersion',
            'iam:SetDefaultPolicyVersion',
            'iam:TagPolicy',
            'iam:UntagPolicy',
          ],
          resources: [arnIn(stack, `policy${BOUNDARY_POLICY_PATH}*`)],
        }),
        new iam.PolicyStatement({
          sid: 'NoLedgerWriter',
          effect: iam.Effect.DENY,
          actions: ['sts:AssumeRole'],
          resources: [arnIn(stack, `role${BROKER_ROLE_PATH}*`)],
        }),
        new iam.PolicyStatement({
          sid: 'NoChangesToJitStacks',
          effect: iam.Effect.DENY,
          actions: ['cloudformation:*'],
          resources: [
            `arn:${stack.partition}:cloudformation:*:${stack.account}:stack/StackSet-${props.stackSetName}-*/*`,
          ],
        }),
      ],
    });
    acknowledge(
      this.policy,
      'AwsSolutions-IAM5',
      'A permissions boundary is a ceiling, not a grant: Allow * caps nothing by itself and the Deny statements carve out the JIT machinery; what a role may do comes from its own policies.',
      ['Action::*', 'Resource::*'],
    );
  }
}

export interface JitTargetRoleProps {
  roleName: string;
  description?: string;
  /** ARN of the broker's role (a CloudFormation parameter in the StackSet template). */
  brokerPrincipalArn: string;
  maxSessionDuration: Duration;
  managedPolicies: iam.IManagedPolicy[];
  /** Names of the AWS managed policies among managedPolicies (acknowledged for cdk-nag's IAM4). */
  awsManagedPolicyNames?: string[];
  /** The ceiling no inline policy can lift. Required: the ledger writer edits only bounded roles. */
  permissionsBoundary: iam.IManagedPolicy;
}

/**
 * A role people get through the broker. Only the broker may assume it, only with a SourceIdentity
 * (CloudTrail names the person) and only with the broker's session tags.
 */
export class JitTargetRole extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: JitTargetRoleProps) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', {
      roleName: props.roleName,
      path: TARGET_ROLE_PATH,
      description: props.description ?? 'jit-broker target role',
      assumedBy: new iam.ArnPrincipal(props.brokerPrincipalArn),
      maxSessionDuration: props.maxSessionDuration,
      managedPolicies: props.managedPolicies,
      permissionsBoundary: props.permissionsBoundary,
    });
    // The L2 trust statement cannot carry two statements with different conditions: set it whole.
    (this.role.node.defaultChild as iam.CfnRole).assumeRolePolicyDocument = targetRoleTrustPolicy(
      props.brokerPrincipalArn,
    );
    Tags.of(this.role).add(TARGET_ROLE_TAG.key, TARGET_ROLE_TAG.value);
    const awsManaged = props.awsManagedPolicyNames ?? [];
    if (awsManaged.length > 0) {
      acknowledge(
        this.role,
        'AwsSolutions-IAM4',
        'Target roles carry the AWS job-function policies the platform team chose (deploy config); the broker limits the time, the boundary caps them.',
        awsManaged.map(awsManagedPolicyFinding),
      );
    }
  }
}

export function targetRoleTrustPolicy(brokerPrincipalArn: string) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'BrokerAssumesWithSourceIdentity',
        Effect: 'Allow',
        Principal: { AWS: brokerPrincipalArn },
        Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
        Condition: { Null: { 'sts:SourceIdentity': 'false' } },
      },
      {
        Sid: 'BrokerTagsSessionsWithJitTagsOnly',
        Effect: 'Allow',
        Principal: { AWS: brokerPrincipalArn },
        Action: 'sts:TagSession',
        // ForAllValues alone is also true without tags: Null makes the grant and requester tags required.
        Condition: {
          'ForAllValues:StringEquals': { 'aws:TagKeys': [...SESSION_TAG_KEYS] },
          Null: { 'aws:RequestTag/jit-grant': 'false', 'aws:RequestTag/jit-requester': 'false' },
        },
      },
    ],
  };
}

export interface JitLedgerWriterRoleProps {
  brokerPrincipalArn: string;
  /** The boundaries target roles carry; the writer may edit inline policies only of roles bounded by one. */
  boundaries: iam.IManagedPolicy[];
}

/**
 * The one role that writes revocation ledgers in this account. It can add or remove inline policies
 * of bounded /jit/ roles and nothing else: no boundaries, no managed policies, no trust policies.
 */
export class JitLedgerWriterRole extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: JitLedgerWriterRoleProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.role = new iam.Role(this, 'Role', {
      roleName: LEDGER_WRITER_ROLE_NAME,
      path: BROKER_ROLE_PATH,
      description: `jit-broker: writes the ${REVOCATION_POLICY_NAME} inline policy of /jit/ roles`,
      assumedBy: new iam.ArnPrincipal(props.brokerPrincipalArn),
      maxSessionDuration: Duration.hours(1),
    });
    // AWS::IAM::Policy, not the role's Policies property (see JitBrokerStack: moto).
    const policy = new iam.Policy(this, 'Policy', {
      policyName: LEDGER_WRITER_ROLE_NAME,
      roles: [this.role],
      statements: ledgerWriterStatements(stack, props),
    });
    acknowledge(
      policy,
      'AwsSolutions-IAM5',
      'Target roles are many and named by the platform team; the writer is scoped to the /jit/ path, to roles bounded by the JIT boundaries, and explicitly denied every widening action.',
      [`Resource::${tokenArn(`role${TARGET_ROLE_PATH}*`)}`],
    );
  }
}

function ledgerWriterStatements(stack: Stack, props: JitLedgerWriterRoleProps): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      // IAM has no condition on an inline policy's name; the boundary condition is what keeps a
      // written Allow harmless (effective permissions = identity policies ∩ boundary).
      sid: 'EditInlinePoliciesOfBoundedJitRoles',
      actions: ['iam:PutRolePolicy', 'iam:DeleteRolePolicy'],
      resources: [targetRolesArn(stack)],
      conditions: {
        StringEquals: { 'iam:PermissionsBoundary': props.boundaries.map((b) => b.managedPolicyArn) },
      },
    }),
    new iam.PolicyStatement({
      sid: 'ReadJitRoles',
      actions: ['iam:GetRole', 'iam:GetRolePolicy', 'iam:ListRolePolicies'],
      resources: [targetRolesArn(stack)],
    }),
    new iam.PolicyStatement({
      sid: 'NeverWiden',
      effect: iam.Effect.DENY,
      actions: [
        'iam:AttachRolePolicy',
        'iam:CreatePolicy',
        'iam:CreatePolicyVersion',
        'iam:CreateRole',
        'iam:DeletePolicy',
        'iam:DeletePolicyVersion',
        'iam:DeleteRole',
        'iam:DeleteRolePermissionsBoundary',
        'iam:DetachRolePolicy',
        'iam:PassRole',
        'iam:PutRolePermissionsBoundary',
        'iam:SetDefaultPolicyVersion',
        'iam:TagRole',
        'iam:UntagRole',
        'iam:UpdateAssumeRolePolicy',
        'iam:UpdateRole',
        'sts:AssumeRole',
      ],
      resources: ['*'],
    }),
  ];
}
