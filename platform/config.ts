import { z } from 'zod';
import { parseVerificationKeys } from '../common/assertion.js';
import { parseDuration } from '../common/duration.js';
import { ledgerWriterRoleProblem } from '../integrations/ledger-writer.js';
import { parseSigningKey } from './assertion-signer.js';
import { parsePayloadKeys } from './payload-codec.js';

/** The local stack's audit store. */
export const DEFAULT_DATABASE_URL = 'sqlite:.data/audit.sqlite';

/** A bad or missing setting; the message names every offending variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const port = z.coerce.number().int().min(1).max(65535);
const url = z.url({ protocol: /^https?$/ });

// Defaults point at the local stack (`npm start`); production sets each explicitly.
const schema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

    TEMPORAL_ADDRESS: z
      .string()
      .regex(/^[\w.-]+:\d+$/, 'must be host:port')
      .default('127.0.0.1:7233'),
    TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    TEMPORAL_TASK_QUEUE: z.string().min(1).default('jit-broker'),
    /** Temporal Cloud API key; implies TLS. */
    TEMPORAL_API_KEY: z.string().min(1).optional(),
    /** TLS with the system's CAs; implied by any setting below or by an API key. */
    TEMPORAL_TLS: z.stringbool().default(false),
    /** mTLS: PEM files of the client certificate (chain) and its key, set together. */
    TEMPORAL_TLS_CERT: z.string().min(1).optional(),
    TEMPORAL_TLS_KEY: z.string().min(1).optional(),
    /** PEM file of the CA that signed the server's certificate (a self-hosted cluster's own CA). */
    TEMPORAL_TLS_CA: z.string().min(1).optional(),
    /** The name the server's certificate is checked against, when it differs from TEMPORAL_ADDRESS's host. */
    TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
    /**
     * Grant workflows a worker keeps in memory between tasks; the rest are replayed from history
     * when their next task comes (an expiry, a decision). Bounds the worker's memory.
     */
    WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).default(250),
    /** The worker's Prometheus endpoint (/metrics); port 0 picks a free one (tests). */
    WORKER_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
    WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
    /** Seconds between reconciler passes (grants whose workflows were terminated or reset by hand). */
    JIT_RECONCILE_INTERVAL: z.coerce.number().int().min(1).max(86_400).default(60),

    /** Origins (the Temporal UI's) allowed to call the codec server, comma-separated. */
    JIT_CODEC_CORS_ORIGINS: z
      .string()
      .default('')
      .transform((v) =>
        v
          .split(',')
          .map((o) => o.trim())
          .filter(Boolean),
      )
      .pipe(z.array(url)),
    API_HOST: z.string().min(1).default('127.0.0.1'),
    API_PORT: port.default(8080),

    OIDC_ISSUER: url.default('http://127.0.0.1:4444'),
    OIDC_AUDIENCE: z.string().min(1).default('jit-broker-api'),
    OIDC_GROUPS_CLAIM: z.string().min(1).default('groups'),
    /** More trusted issuers (people, CI pipelines, AI agents): YAML, see README "Workloads". */
    JIT_ISSUERS_FILE: z.string().min(1).optional(),

    /** The queue door (queue/main.ts): the SQS queue Step Functions sends access requests to. */
    JIT_HANDOFF_QUEUE_URL: url.optional(),
    /** How often a grant checks that the Step Functions execution waiting for it still runs. */
    JIT_HANDOFF_WATCH_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),

    AWS_REGION: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region like us-east-1')
      .default('us-east-1'),
    /**
     * The role IAM calls go through in each target role's own account (infra/cdk's ledger writer):
     * a name with path (`jit-broker/jit-ledger-writer`) or an ARN template with {account} and
     * {partition}. Unset: the broker's own IAM client, in its own account (the local stack).
     */
    JIT_LEDGER_WRITER_ROLE: z
      .string()
      .min(1)
      .superRefine((value, ctx) => {
        const problem = ledgerWriterRoleProblem(value);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional(),
    /** Points the AWS SDK at an emulator (moto); unset means real AWS. */
    AWS_ENDPOINT_URL: url.optional(),

    /** AWS federation endpoint for console sign-in URLs (a local fake in tests). */
    AWS_FEDERATION_ENDPOINT: url.default('https://signin.aws.amazon.com/federation'),
    AWS_CONSOLE_DESTINATION: url.default('https://console.aws.amazon.com/'),

    /** Audit store: a `postgres://` URL, else a SQLite file (`sqlite:<path>` or a path). */
    DATABASE_URL: z.string().min(1).default(DEFAULT_DATABASE_URL),
    /** Folder with schema.cedarschema, policies.cedar and catalog.yaml; defaults to the shipped policies/. */
    JIT_POLICY_DIR: z.string().min(1).optional(),
    /** Slack is on when both are set; see infra/slack/manifest.yaml. */
    SLACK_BOT_TOKEN: z.string().min(1).optional(),
    SLACK_SIGNING_SECRET: z.string().min(1).optional(),
    /** The Slack Web API base URL (a local fake in tests). */
    SLACK_API_URL: url.default('https://slack.com/api/'),
    /** Who a Slack reviewer is: YAML/JSON `users: [{sub, email, groups}]`, exported from the IdP. */
    JIT_DIRECTORY_FILE: z.string().min(1).optional(),
    /**
     * The web console (README, "Web console") is on when this is set: `id:base64(32 bytes)`,
     * comma-separated, newest first. Signs the session cookie and encrypts sessions at rest.
     */
    JIT_CONSOLE_SESSION_KEYS: z
      .string()
      .min(1)
      .transform((value, ctx) => {
        try {
          return parsePayloadKeys(value);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
          return z.NEVER;
        }
      })
      .optional(),
    /** The console's public URL (its origin, where the browser reaches the API); default http://API_HOST:API_PORT/. */
    JIT_CONSOLE_URL: url.optional(),
    /** The console's OIDC client at OIDC_ISSUER (authorization code + PKCE). */
    JIT_CONSOLE_CLIENT_ID: z.string().min(1).default('jit-console'),
    /** Unset: a public client (PKCE only). The dev issuer's console client has one. */
    JIT_CONSOLE_CLIENT_SECRET: z.string().min(1).optional(),
    JIT_CONSOLE_SCOPES: z.string().min(1).default('openid profile email groups offline_access'),
    /** RFC 8707 resource indicator for the API's access tokens, for issuers that need one. */
    JIT_CONSOLE_RESOURCE: z.string().min(1).optional(),
    /** A console session ends after this long at most, even while its tokens refresh. */
    JIT_CONSOLE_SESSION_MAX: z
      .string()
      .default('12h')
      .transform((value, ctx) => {
        try {
          return parseDuration(value);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
          return z.NEVER;
        }
      }),
    /** Payload encryption keys `id:base64(32 bytes)`, comma-separated, newest first. */
    JIT_PAYLOAD_KEYS: z
      .string()
      .min(1, 'is required (see README, "Configuration")')
      .transform((value, ctx) => {
        try {
          return parsePayloadKeys(value);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
          return z.NEVER;
        }
      }),
    /**
     * Front doors (API, queue consumer): `kid:base64(32-byte Ed25519 seed)`, the key that signs
     * decisions. Workers must not have it. See README, "Keys".
     */
    JIT_ASSERTION_SIGNING_KEY: z
      .string()
      .min(1)
      .transform((value, ctx) => {
        try {
          return parseSigningKey(value);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
          return z.NEVER;
        }
      })
      .optional(),
    /** Workers: `kid:base64(public key),...`, every front-door key whose assertions are accepted. */
    JIT_ASSERTION_VERIFY_KEYS: z
      .string()
      .min(1)
      .refine((value) => {
        try {
          parseVerificationKeys(value);
          return true;
        } catch {
          return false;
        }
      }, 'must be kid:base64(32-byte public key), comma-separated')
      .optional(),
  })
  .superRefine((cfg, ctx) => {
    // A certificate without its key (or the reverse) would fail only at the first connection.
    if (Boolean(cfg.TEMPORAL_TLS_CERT) !== Boolean(cfg.TEMPORAL_TLS_KEY)) {
      ctx.addIssue({
        code: 'custom',
        path: [cfg.TEMPORAL_TLS_CERT ? 'TEMPORAL_TLS_KEY' : 'TEMPORAL_TLS_CERT'],
        message: 'set TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY together (mTLS), or neither',
      });
    }
    // Half a Slack set-up would post messages nobody can click (or the reverse): refuse it.
    if (Boolean(cfg.SLACK_BOT_TOKEN) !== Boolean(cfg.SLACK_SIGNING_SECRET)) {
      ctx.addIssue({
        code: 'custom',
        path: [cfg.SLACK_BOT_TOKEN ? 'SLACK_SIGNING_SECRET' : 'SLACK_BOT_TOKEN'],
        message: 'set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET together, or neither',
      });
    }
    if (cfg.NODE_ENV !== 'production') return;
    if (cfg.JIT_CONSOLE_SESSION_KEYS && !cfg.JIT_CONSOLE_URL?.startsWith('https://')) {
      ctx.addIssue({
        code: 'custom',
        path: ['JIT_CONSOLE_URL'],
        message: "must be the console's https:// URL in production",
      });
    }
    if (cfg.AWS_ENDPOINT_URL) {
      ctx.addIssue({ code: 'custom', path: ['AWS_ENDPOINT_URL'], message: 'must not be set in production' });
    }
    if (!cfg.OIDC_ISSUER.startsWith('https://')) {
      ctx.addIssue({
        code: 'custom',
        path: ['OIDC_ISSUER'],
        message: 'must be an https:// URL in production',
      });
    }
  });

export type Config = z.infer<typeof schema>;

/** A setting one process needs and the shared schema leaves optional (e.g. the signing key). */
export function required<K extends keyof Config>(config: Config, key: K): NonNullable<Config[K]> {
  const value = config[key];
  if (value === undefined || value === null)
    throw new ConfigError(`invalid configuration:\n  ${String(key)}: is required (see README, "Keys")`);
  return value as NonNullable<Config[K]>;
}

/** Reads and validates the environment once at start-up. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
  throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
}
