// How the broker writes a revocation ledger through the target account's ledger-writer role
// (infra/cdk: arn:<partition>:iam::<account>:role/jit-broker/jit-ledger-writer) instead of with its
// own credentials, which hold no IAM permission at all. The worker does not do this yet: this module
// is the exact sequence of calls for activities/aws.ts, used by test/deploy-cdk-moto.test.ts.
//
//   1. sts:AssumeRole  RoleArn = ledger writer of the target role's account (from the role ARN, or a
//      catalog field such as `ledgerWriterRoleArn`), RoleSessionName = jit-ledger-<account>,
//      DurationSeconds = 900; cached per account until 5 minutes before Expiration.
//   2. with those credentials, unchanged: iam:ListRolePolicies, iam:GetRolePolicy (size check),
//      iam:PutRolePolicy / iam:DeleteRolePolicy of REVOCATION_POLICY_NAME on the role's name.
import { IAMClient } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import { createAwsActivities } from '../../activities/aws.js';
import type { LedgerEntry } from '../../common/grant.js';
import { ledgerWriterRoleArn } from '../../infra/cdk/names.js';

const ROLE_ARN = /^arn:([\w-]+):iam::(\d{12}):role\//;

export interface LedgerWriterOptions {
  /** STS as the broker (its own web-identity session). */
  sts: STSClient;
  region: string;
  endpoint?: string;
  /** Overrides the derived writer ARN, e.g. from a catalog field. */
  writerArnFor?: (account: string, partition: string) => string;
}

/** IAM clients acting as each account's ledger writer, assumed on first use and renewed before expiry. */
export function ledgerWriterIam(opts: LedgerWriterOptions) {
  const cache = new Map<string, { iam: IAMClient; renewAt: number }>();
  return {
    async forRole(roleArn: string): Promise<IAMClient> {
      const match = ROLE_ARN.exec(roleArn);
      if (!match) throw new Error(`not an IAM role ARN: ${roleArn}`);
      const [, partition, account] = match as unknown as [string, string, string];
      const cached = cache.get(account);
      if (cached && cached.renewAt > Date.now()) return cached.iam;
      cached?.iam.destroy();
      const RoleArn = (opts.writerArnFor ?? ledgerWriterRoleArn)(account, partition);
      const { Credentials: c } = await opts.sts.send(
        new AssumeRoleCommand({ RoleArn, RoleSessionName: `jit-ledger-${account}`, DurationSeconds: 900 }),
      );
      if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
        throw new Error(`STS returned no credentials for ${RoleArn}`);
      }
      const iam = new IAMClient({
        region: opts.region,
        ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
        credentials: {
          accessKeyId: c.AccessKeyId,
          secretAccessKey: c.SecretAccessKey,
          sessionToken: c.SessionToken,
        },
      });
      cache.set(account, { iam, renewAt: c.Expiration.getTime() - 5 * 60_000 });
      return iam;
    },
    close(): void {
      for (const { iam } of cache.values()) iam.destroy();
      cache.clear();
    },
  };
}

/** `writeRevocationPolicy` with the same input and result as the activity, through the ledger writer. */
export function writeRevocationPolicyViaLedgerWriter(
  writers: ReturnType<typeof ledgerWriterIam>,
  sts: STSClient,
) {
  return async (input: { roleArn: string; entries: LedgerEntry[]; issuedBefore?: string }) => {
    const iam = await writers.forRole(input.roleArn);
    return createAwsActivities({ sts, iam }).writeRevocationPolicy(input);
  };
}
