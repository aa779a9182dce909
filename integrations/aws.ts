// Every call to AWS (STS, IAM and the console federation endpoint) goes through here. Plain
// functions with typed errors: the worker's activities (activities/aws.ts) and the API both use them.
import {
  DeleteRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListRolePoliciesCommand,
  NoSuchEntityException,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type {
  AssumeRoleInput,
  RevocationPolicyInput,
  RevocationPolicyResult,
  SessionCredentials,
} from '../common/activities.js';
import {
  policySize,
  REVOCATION_POLICY_NAME,
  ROLE_INLINE_POLICY_LIMIT,
  revocationPolicyDocument,
  roleNameFromArn,
} from '../common/revocation-policy.js';
import {
  assertSessionName,
  assertSourceIdentity,
  assertTagValue,
  MIN_SESSION_SECONDS,
  StsLimitError,
} from '../common/sts-limits.js';
import { traceAwsCalls } from './aws-tracing.js';
import { ledgerWriterIam } from './ledger-writer.js';

export interface AwsDeps {
  sts: STSClient;
  iam: IAMClient;
  /** IAM in the account of a role (its ledger writer); without it, `iam` (one account). */
  iamForRole?: (roleArn: string) => Promise<IAMClient>;
}

export interface AwsClientOptions {
  region: string;
  endpoint?: string | undefined;
  /** JIT_LEDGER_WRITER_ROLE: role IAM goes through in each target account; unset, the broker's own. */
  ledgerWriterRole?: string | undefined;
}

/** One client each per process; credentials come from the default chain (web identity, instance role, env). */
export function createAwsClients(opts: AwsClientOptions): AwsDeps & { destroy(): void } {
  const config = { region: opts.region, ...(opts.endpoint ? { endpoint: opts.endpoint } : {}) };
  const sts = traceAwsCalls(new STSClient(config));
  const iam = traceAwsCalls(new IAMClient(config));
  const writers = opts.ledgerWriterRole
    ? ledgerWriterIam({ sts, region: opts.region, endpoint: opts.endpoint, role: opts.ledgerWriterRole })
    : undefined;
  return {
    sts,
    iam,
    ...(writers ? { iamForRole: (roleArn: string) => writers.forRole(roleArn) } : {}),
    destroy() {
      writers?.close();
      sts.destroy();
      iam.destroy();
    },
  };
}

// Errors no retry can fix: the grant fails with the reason instead of retrying.
const permanentAwsErrors = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'MalformedPolicyDocument',
  'MalformedPolicyDocumentException',
  'NoSuchEntity',
  'NoSuchEntityException',
  'ValidationError',
  'InvalidParameterValue',
  'PackedPolicyTooLarge',
  'RegionDisabledException',
  'LimitExceeded',
  'LimitExceededException',
  'InvalidClientTokenId',
]);

/** An AWS call failed. `permanent`: no retry can fix it (bad trust policy, malformed input). */
export class AwsCallError extends Error {
  override name = 'AwsCallError';
  constructor(
    readonly code: string,
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

async function callAws<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const name = err instanceof Error ? err.name : '';
    const message = `${what}: ${err instanceof Error ? err.message : String(err)}`;
    // Throttling, network and 5xx may pass; the rest will not.
    throw new AwsCallError(`Aws${name.replace(/Exception$/, '')}`, message, permanentAwsErrors.has(name));
  }
}

/** The AWS operations of the broker, over one STS and one IAM client. */
export function awsOperations({ sts, iam: ownIam, iamForRole }: AwsDeps) {
  const iamOf = (roleArn: string): Promise<IAMClient> =>
    iamForRole
      ? callAws('AssumeRole of the ledger writer', () => iamForRole(roleArn))
      : Promise.resolve(ownIam);
  return {
    /** STS AssumeRole within the limits the broker checks itself (moto does not). */
    async assumeRole(input: AssumeRoleInput): Promise<SessionCredentials> {
      try {
        assertSessionName(input.sessionName);
        assertSourceIdentity(input.sourceIdentity);
        if (!Number.isInteger(input.durationSeconds) || input.durationSeconds < MIN_SESSION_SECONDS) {
          throw new StsLimitError(`DurationSeconds must be an integer >= ${MIN_SESSION_SECONDS}`);
        }
        for (const [key, value] of Object.entries(input.tags)) assertTagValue(key, value);
      } catch (err) {
        throw new AwsCallError('StsLimitError', (err as Error).message, true);
      }
      const out = await callAws('AssumeRole', () =>
        sts.send(
          new AssumeRoleCommand({
            RoleArn: input.roleArn,
            RoleSessionName: input.sessionName,
            SourceIdentity: input.sourceIdentity,
            DurationSeconds: input.durationSeconds,
            Tags: Object.entries(input.tags).map(([Key, Value]) => ({ Key, Value })),
          }),
        ),
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
        throw new AwsCallError(
          'AwsIncompleteResponse',
          'STS AssumeRole returned an incomplete response',
          false,
        );
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

    /**
     * Replaces the role's revocation policy with exactly these entries. Writes nothing and says so
     * when the role's inline policies would pass IAM's size limit (moto does not check it).
     */
    async writeRevocationPolicy(input: RevocationPolicyInput): Promise<RevocationPolicyResult> {
      const RoleName = roleNameFromArn(input.roleArn);
      const iam = await iamOf(input.roleArn);
      const document = revocationPolicyDocument(input.entries, input.issuedBefore);
      if (!document) {
        await callAws('DeleteRolePolicy', () =>
          iam
            .send(new DeleteRolePolicyCommand({ RoleName, PolicyName: REVOCATION_POLICY_NAME }))
            .catch((err) => {
              if (!(err instanceof NoSuchEntityException)) throw err;
            }),
        );
        return { written: true, size: 0, limit: ROLE_INLINE_POLICY_LIMIT };
      }
      const others = await otherInlinePolicySize(iam, RoleName);
      const size = others + policySize(document);
      if (size > ROLE_INLINE_POLICY_LIMIT) return { written: false, size, limit: ROLE_INLINE_POLICY_LIMIT };
      await callAws('PutRolePolicy', () =>
        iam.send(
          new PutRolePolicyCommand({
            RoleName,
            PolicyName: REVOCATION_POLICY_NAME,
            PolicyDocument: document,
          }),
        ),
      );
      return { written: true, size, limit: ROLE_INLINE_POLICY_LIMIT };
    },

    /** The role's unique id (`AROA...`), the first half of what a deny on `aws:userid` matches. */
    async roleId(roleArn: string): Promise<string> {
      const iam = await iamOf(roleArn);
      const out = await callAws('GetRole', () =>
        iam.send(new GetRoleCommand({ RoleName: roleNameFromArn(roleArn) })),
      );
      if (!out.Role?.RoleId)
        throw new AwsCallError('AwsIncompleteResponse', 'IAM GetRole returned no RoleId', false);
      return out.Role.RoleId;
    },

    /** A role's unique id (AROA...): what SQS reports as the sender of its sessions' messages. */
    async roleUniqueId(roleArn: string): Promise<string | undefined> {
      const iam = await iamOf(roleArn);
      try {
        const out = await iam.send(new GetRoleCommand({ RoleName: roleNameFromArn(roleArn) }));
        return out.Role?.Arn === roleArn ? out.Role.RoleId : undefined;
      } catch (err) {
        if (err instanceof NoSuchEntityException) return undefined;
        throw err;
      }
    },

    async brokerIdentity(): Promise<{ account: string; arn: string }> {
      const out = await sts.send(new GetCallerIdentityCommand({}));
      return { account: out.Account ?? '', arn: out.Arn ?? '' };
    },
  };
}

/** Size of the role's inline policies other than the ledger's own, as IAM counts them. */
async function otherInlinePolicySize(iam: IAMClient, RoleName: string): Promise<number> {
  const { PolicyNames = [] } = await callAws('ListRolePolicies', () =>
    iam.send(new ListRolePoliciesCommand({ RoleName })),
  );
  let total = 0;
  for (const PolicyName of PolicyNames) {
    if (PolicyName === REVOCATION_POLICY_NAME) continue;
    const { PolicyDocument = '' } = await callAws('GetRolePolicy', () =>
      iam.send(new GetRolePolicyCommand({ RoleName, PolicyName })),
    );
    total += policySize(decodeURIComponent(PolicyDocument));
  }
  return total;
}

export type AwsOperations = ReturnType<typeof awsOperations>;

/**
 * Throws unless the federation endpoint answers (any HTTP status below 500): asked before minting
 * credentials for it, so an unreachable endpoint costs no STS session. The message names the cause.
 */
export async function checkFederationEndpoint(endpoint: string): Promise<void> {
  const url = new URL(endpoint);
  const where = `${url.origin}${url.pathname}`;
  let status: number;
  try {
    const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(5000) });
    await res.body?.cancel();
    status = res.status;
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    throw new Error(`federation endpoint ${where} is unreachable (${(err as Error).message}${cause})`);
  }
  if (status >= 500) throw new Error(`federation endpoint ${where} answered ${status}`);
}

/**
 * A console sign-in URL for session credentials (AWS federation endpoint: getSigninToken, then
 * login). The sign-in token is as secret as the credentials.
 */
export async function consoleSignInUrl(opts: {
  federationEndpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  destination: string;
  issuer: string;
}): Promise<string> {
  const session = JSON.stringify({
    sessionId: opts.credentials.accessKeyId,
    sessionKey: opts.credentials.secretAccessKey,
    sessionToken: opts.credentials.sessionToken,
  });
  const tokenUrl = new URL(opts.federationEndpoint);
  tokenUrl.search = new URLSearchParams({ Action: 'getSigninToken', Session: session }).toString();
  const res = await fetch(tokenUrl, { signal: AbortSignal.timeout(10_000) });
  // The URL carries the credentials: name the status only.
  if (!res.ok) throw new Error(`federation endpoint answered ${res.status} to getSigninToken`);
  const { SigninToken } = (await res.json()) as { SigninToken?: string };
  if (!SigninToken) throw new Error('federation endpoint returned no SigninToken');
  const login = new URL(opts.federationEndpoint);
  login.search = new URLSearchParams({
    Action: 'login',
    Issuer: opts.issuer,
    Destination: opts.destination,
    SigninToken,
  }).toString();
  return login.toString();
}
