import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import {
  assertSessionName,
  assertSourceIdentity,
  assertTagValue,
  MIN_SESSION_SECONDS,
  StsLimitError,
} from '../common/sts-limits.js';

export interface AwsDeps {
  sts: STSClient;
}

export interface AssumeRoleInput {
  roleArn: string;
  sessionName: string;
  sourceIdentity: string;
  durationSeconds: number;
  tags: Record<string, string>;
}

/** Secret fields travel only through the encrypting payload codec, never logs or audit rows. */
export interface SessionCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: string;
  assumedRoleArn: string;
  /** `<RoleId>:<session name>`: what `aws:userid` matches in a deny policy. */
  assumedRoleId: string;
}

export interface AwsClientOptions {
  region: string;
  endpoint?: string | undefined;
}

/** One STS client per process; credentials come from the default chain (web identity, instance role, env). */
export function createStsClient(opts: AwsClientOptions): STSClient {
  return new STSClient({ region: opts.region, ...(opts.endpoint ? { endpoint: opts.endpoint } : {}) });
}

export function createAwsActivities({ sts }: AwsDeps) {
  return {
    async assumeRole(input: AssumeRoleInput): Promise<SessionCredentials> {
      assertSessionName(input.sessionName);
      assertSourceIdentity(input.sourceIdentity);
      if (!Number.isInteger(input.durationSeconds) || input.durationSeconds < MIN_SESSION_SECONDS) {
        throw new StsLimitError(`DurationSeconds must be an integer >= ${MIN_SESSION_SECONDS}`);
      }
      for (const [key, value] of Object.entries(input.tags)) assertTagValue(key, value);

      const out = await sts.send(
        new AssumeRoleCommand({
          RoleArn: input.roleArn,
          RoleSessionName: input.sessionName,
          SourceIdentity: input.sourceIdentity,
          DurationSeconds: input.durationSeconds,
          Tags: Object.entries(input.tags).map(([Key, Value]) => ({ Key, Value })),
        }),
      );
      const c = out.Credentials;
      const user = out.AssumedRoleUser;
      if (
        !c?.AccessKeyId ||
        !c.SecretAccessKey ||
        !c.SessionToken ||
        !c.Expiration ||
        !user?.Arn ||
        !user.AssumedRoleId
      ) {
        throw new Error('STS AssumeRole returned an incomplete response');
      }
      return {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
        expiration: c.Expiration.toISOString(),
        assumedRoleArn: user.Arn,
        assumedRoleId: user.AssumedRoleId,
      };
    },

    async brokerIdentity(): Promise<{ account: string; arn: string }> {
      const out = await sts.send(new GetCallerIdentityCommand({}));
      return { account: out.Account ?? '', arn: out.Arn ?? '' };
    },
  };
}

export type AwsActivities = ReturnType<typeof createAwsActivities>;
