// The AWS activities: STS sessions for grants and the revocation ledger's IAM writes, over the
// plain operations of integrations/aws.ts. An AWS error no retry can fix is non-retryable.
import { ApplicationFailure } from '@temporalio/common';
import type { AssumeRoleInput, RevocationPolicyInput } from '../common/activities.js';
import { AwsCallError, type AwsOperations } from '../integrations/aws.js';

async function asActivity<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof AwsCallError) {
      throw ApplicationFailure.create({ message: err.message, type: err.code, nonRetryable: err.permanent });
    }
    throw err;
  }
}

export function createAwsActivities({
  aws,
  hasEnded,
}: {
  aws: Pick<AwsOperations, 'assumeRole' | 'writeRevocationPolicy'>;
  /** Whether the audit trail records an end for the grant: a reset grant never issues again. */
  hasEnded: (grantId: string) => Promise<boolean>;
}) {
  return {
    async assumeRole(input: AssumeRoleInput) {
      if (input.grantId && (await hasEnded(input.grantId))) {
        throw ApplicationFailure.nonRetryable(`${input.grantId} has ended`, 'grant_ended');
      }
      return asActivity(() => aws.assumeRole(input));
    },
    writeRevocationPolicy: (input: RevocationPolicyInput) =>
      asActivity(() => aws.writeRevocationPolicy(input)),
  };
}
