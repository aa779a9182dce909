// The deployment's facts (accounts, OUs, how the broker authenticates, which target roles exist), read
// from one YAML file so the CDK app and the catalog check agree. Validated strictly: a typo here
// changes who can assume what.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

const account = z.string().regex(/^\d{12}$/, 'expected a 12-digit account id (quote it in YAML)');
const k8sName = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'expected a Kubernetes name');
/** An OIDC issuer as IAM condition keys spell it: host and path, no scheme. */
const issuerHostPath = z
  .string()
  .regex(
    /^[a-z0-9.-]+(\/[\w.-]+)*$/i,
    'expected the issuer without https://, e.g. oidc.eks.<region>.amazonaws.com/id/<ID>',
  );

const trust = z.discriminatedUnion('kind', [
  /** EKS IAM roles for service accounts: the cluster's OIDC provider (already registered in IAM). */
  z.strictObject({
    kind: z.literal('irsa'),
    oidcIssuer: issuerHostPath,
    namespace: k8sName,
    serviceAccount: k8sName,
  }),
  /** EKS Pod Identity: the stack also creates the pod identity association. */
  z.strictObject({
    kind: z.literal('pod-identity'),
    clusterName: z.string().min(1),
    namespace: k8sName,
    serviceAccount: k8sName,
  }),
  /** Any other OIDC issuer registered in IAM (a CI system, another Kubernetes). */
  z.strictObject({
    kind: z.literal('oidc'),
    oidcIssuer: issuerHostPath,
    audience: z.string().min(1),
    subject: z.string().min(1),
  }),
  /** Role chaining from existing principals (an ECS task role, a test user). */
  z.strictObject({
    kind: z.literal('aws'),
    principalArns: z.array(z.string().regex(/^arn:aws[\w-]*:(iam|sts)::\d{12}:[\w+=,.@/-]+$/)).min(1),
  }),
]);

const targetRole = z.strictObject({
  /** IAM role name; the ARN is arn:<partition>:iam::<account>:role/jit/<name>. */
  name: z.string().regex(/^[\w+=,.@-]{1,64}$/, 'an IAM role name'),
  description: z.string().min(1).optional(),
  /** The role's MaxSessionDuration; the catalog's roleMaxSessionSeconds must equal it. */
  maxSessionSeconds: z.number().int().min(3600).max(43200),
  /** AWS managed policy names (ReadOnlyAccess) or full policy ARNs: what the role may do. */
  managedPolicies: z.array(z.string().min(1)).min(1),
  /**
   * The role's permissions boundary, the ceiling no inline policy can lift: `read-only` is AWS's
   * ReadOnlyAccess, `guardrail` allows everything except touching the JIT machinery itself.
   */
  boundary: z.enum(['read-only', 'guardrail']),
});

const database = z.strictObject({
  vpcId: z.string().regex(/^vpc-[0-9a-f]+$/),
  /** Private subnets for the database (two or more AZs). */
  subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]+$/)).min(2),
  availabilityZones: z.array(z.string().min(1)).min(2),
  /** The security group of the broker's pods (or nodes); only it may connect. */
  clientSecurityGroupId: z.string().regex(/^sg-[0-9a-f]+$/),
});

export const deployConfigSchema = z
  .strictObject({
    partition: z.enum(['aws', 'aws-us-gov', 'aws-cn']).default('aws'),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/),
    /** The account the broker runs in (its role, secrets, database). */
    brokerAccount: account,
    /** Where the StackSet is administered: the management account or a delegated administrator. */
    orgAccount: account,
    broker: z.strictObject({
      trust,
      /** Secrets Manager secrets the broker reads (payload keys, signing key, Slack). */
      secrets: z.boolean().default(true),
      database: database.optional(),
    }),
    targets: z.strictObject({
      stackSetName: z
        .string()
        .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/)
        .default('jit-target-roles'),
      callAs: z.enum(['SELF', 'DELEGATED_ADMIN']).default('SELF'),
      /** The StackSet deploys to every account in these OUs, and to accounts that join them later. */
      organizationalUnitIds: z
        .array(z.string().regex(/^(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$/))
        .min(1),
      /** The accounts the catalog may name (members of those OUs); the broker may assume roles only there. */
      accounts: z.array(account).min(1),
      roles: z.array(targetRole).min(1),
    }),
  })
  .superRefine((cfg, ctx) => {
    const names = cfg.targets.roles.map((r) => r.name);
    names.forEach((name, i) => {
      if (names.indexOf(name) !== i) {
        ctx.addIssue({
          code: 'custom',
          path: ['targets', 'roles', i, 'name'],
          message: 'duplicate role name',
        });
      }
    });
  });

export type DeployConfig = z.output<typeof deployConfigSchema>;
export type TargetRoleConfig = DeployConfig['targets']['roles'][number];
export type BrokerTrust = DeployConfig['broker']['trust'];

export const exampleConfigFile = join(import.meta.dirname, 'jit.config.example.yaml');

export function parseDeployConfig(text: string, file: string): DeployConfig {
  const result = deployConfigSchema.safeParse(parse(text));
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
  throw new Error(`${file}: invalid deploy configuration:\n${problems.join('\n')}`);
}

/** The file named by JIT_CDK_CONFIG, else the example (placeholder accounts, fine for synth). */
export function loadDeployConfig(file = process.env.JIT_CDK_CONFIG ?? exampleConfigFile): DeployConfig {
  return parseDeployConfig(readFileSync(file, 'utf8'), file);
}
