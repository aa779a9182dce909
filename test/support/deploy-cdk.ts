// Helpers for the CDK app's tests: cdk-nag findings and IAM statements of a synthesized template.
import type { App } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type nag from 'cdk-nag';

// biome-ignore lint/suspicious/noExplicitAny: synthesized CloudFormation is untyped JSON; tests read it by shape.
export type TemplateJson = Record<string, any>;

export interface PolicyStatementJson {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** cdk-nag errors left after acknowledgements, as `<rule> <construct path>`. */
export function nagErrors(pack: nag.AwsSolutionsChecks, app: App): string[] {
  return pack
    .validateScope(app)
    .violations.filter((v) => v.severity === 'error')
    .flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`));
}

/** Every identity-policy statement of a template, with the role names it applies to. */
export function statementsOf(template: Template): { roles: string[]; statement: PolicyStatementJson }[] {
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: TemplateJson }>;
  const roleName = (ref: unknown) => {
    const id = (ref as { Ref?: string }).Ref;
    return id ? (resources[id]?.Properties.RoleName ?? id) : String(ref);
  };
  const out: { roles: string[]; statement: PolicyStatementJson }[] = [];
  for (const resource of Object.values(resources)) {
    if (resource.Type === 'AWS::IAM::Role') {
      for (const policy of resource.Properties.Policies ?? []) {
        for (const statement of policy.PolicyDocument.Statement) {
          out.push({ roles: [resource.Properties.RoleName], statement });
        }
      }
    }
    if (resource.Type === 'AWS::IAM::Policy') {
      for (const statement of resource.Properties.PolicyDocument.Statement) {
        out.push({ roles: (resource.Properties.Roles ?? []).map(roleName), statement });
      }
    }
  }
  return out;
}
