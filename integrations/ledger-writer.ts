// IAM in a target role's own account, as that account's ledger-writer role (infra/cdk deploys it
// with the target roles). The broker's own credentials hold no IAM permission: every read or write
// of a role (the revocation ledger's inline policy, GetRole for its unique id) goes through here.
import { IAMClient } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';

const ROLE_ARN = /^arn:([\w-]+):iam::(\d{12}):role\//;
/** A name with an optional path (`jit-broker/jit-ledger-writer`), or an ARN template. */
const ROLE_PATH_NAME = /^\/?([\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;

/** Checks JIT_LEDGER_WRITER_ROLE; the message says what is wrong. */
export function ledgerWriterRoleProblem(setting: string): string | undefined {
  if (setting.startsWith('arn:')) {
    if (!setting.includes('{account}')) return 'an ARN template must contain {account}';
    const sample = setting.replaceAll('{account}', '111111111111').replaceAll('{partition}', 'aws');
    return ROLE_ARN.test(sample) ? undefined : 'must be arn:{partition}:iam::{account}:role/<path><name>';
  }
  return ROLE_PATH_NAME.test(setting)
    ? undefined
    : 'must be a role name with an optional path, or an ARN template';
}

/** The writer's ARN in the account (and partition) of `roleArn`. */
export function ledgerWriterArn(setting: string, roleArn: string): string {
  const match = ROLE_ARN.exec(roleArn);
  if (!match) throw new Error(`not an IAM role ARN: ${roleArn}`);
  const [, partition, account] = match as unknown as [string, string, string];
  if (setting.startsWith('arn:'))
    return setting.replaceAll('{account}', account).replaceAll('{partition}', partition);
  return `arn:${partition}:iam::${account}:role/${setting.replace(/^\//, '')}`;
}

export interface LedgerWriterOptions {
  /** STS as the broker (its web-identity session). */
  sts: STSClient;
  region: string;
  endpoint?: string | undefined;
  /** JIT_LEDGER_WRITER_ROLE. */
  role: string;
}

/** IAM clients as each account's ledger writer: assumed on first use, renewed 5 minutes before expiry. */
export function ledgerWriterIam(opts: LedgerWriterOptions) {
  const cache = new Map<string, { iam: Promise<IAMClient>; renewAt: number }>();
  const assume = async (RoleArn: string, account: string): Promise<IAMClient> => {
    const { Credentials: c } = await opts.sts.send(
      new AssumeRoleCommand({ RoleArn, RoleSessionName: `jit-ledger-${account}`, DurationSeconds: 900 }),
    );
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
      throw new Error(`STS returned no credentials for ${RoleArn}`);
    }
    const entry = cache.get(RoleArn);
    if (entry) entry.renewAt = c.Expiration.getTime() - 5 * 60_000;
    return new IAMClient({
      region: opts.region,
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      credentials: {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
      },
    });
  };
  return {
    forRole(roleArn: string): Promise<IAMClient> {
      const RoleArn = ledgerWriterArn(opts.role, roleArn);
      const cached = cache.get(RoleArn);
      if (cached && cached.renewAt > Date.now()) return cached.iam;
      cached?.iam.then((iam) => iam.destroy()).catch(() => {});
      const account = RoleArn.split(':')[4] as string;
      // Concurrent calls share one AssumeRole; a failure is not cached.
      const entry = { iam: assume(RoleArn, account), renewAt: Number.POSITIVE_INFINITY };
      cache.set(RoleArn, entry);
      entry.iam.catch(() => {
        if (cache.get(RoleArn) === entry) cache.delete(RoleArn);
      });
      return entry.iam;
    },
    close(): void {
      for (const { iam } of cache.values()) iam.then((c) => c.destroy()).catch(() => {});
      cache.clear();
    },
  };
}
