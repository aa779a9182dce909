// cdk-nag (v3) acknowledgements: every one names the exact finding and says why it is acceptable.
import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges an AwsSolutions rule on a construct, for the listed findings only
 * (e.g. `Resource::arn:aws:iam::111111111111:role/jit/*`), or for the whole rule when none are given.
 */
export function acknowledge(scope: IConstruct, rule: string, reason: string, findings?: string[]): void {
  const ids = findings?.length ? findings.map((f) => `${rule}[${f}]`) : [rule];
  for (const id of ids) Validations.of(scope).acknowledge({ id, reason });
}

/** How cdk-nag prints an ARN built from the stack's partition and account tokens. */
export const tokenArn = (resource: string) => `arn:<AWS::Partition>:iam::<AWS::AccountId>:${resource}`;
export const awsManagedPolicyFinding = (name: string) =>
  `Policy::arn:<AWS::Partition>:iam::aws:policy/${name}`;
