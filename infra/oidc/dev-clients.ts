// The dev issuer's workload clients: pipelines and agents that get client-credentials tokens.
// DEV ONLY: each secret sits in source control (like the dev users' passwords), which is why the
// issuer refuses to run with NODE_ENV=production. Their tokens carry claims shaped like the real
// thing (GitHub Actions' repository, ref, environment, job_workflow_ref) for the broker's issuer
// claim mapping (`dev-workloads` in devIssuersYaml below) and the catalog's workloads.
import { writeFileSync } from 'node:fs';

/** The audience of workload tokens: never the people's, so one cannot pass for the other. */
export const WORKLOAD_AUDIENCE = 'jit-broker-workloads';

export interface DevClient {
  clientId: string;
  secret: string;
  description: string;
  /** Extra claims of its access tokens. */
  claims: Record<string, string>;
}

const devClient = (
  clientId: string,
  description: string,
  claims: Record<string, string> = {},
): DevClient => ({
  clientId,
  secret: `${clientId}-dev-secret`,
  description,
  claims,
});

export const devClients: readonly DevClient[] = [
  devClient('ci-deployer', "the shop's deploy workflow, as GitHub Actions would describe it", {
    repository: 'acme/shop',
    repository_owner: 'acme',
    ref: 'refs/heads/main',
    environment: 'production',
    job_workflow_ref: 'acme/shop/.github/workflows/deploy.yml@refs/heads/main',
    actor: 'github-actions[bot]',
  }),
  devClient('ai-agent', 'an AI agent reading production for people'),
  devClient('deploy-runner', "the runner of the deploy state machine's jobs"),
];

export function findDevClient(clientId: string): DevClient | undefined {
  return devClients.find((client) => client.clientId === clientId);
}

/** A client-credentials access token from the dev issuer (RFC 6749 §4.4, client_secret_basic). */
export async function clientCredentialsToken(issuer: string, clientId: string): Promise<string> {
  const client = findDevClient(clientId);
  if (!client) throw new Error(`no dev client ${clientId}`);
  const res = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${client.clientId}:${client.secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials' }).toString(),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
  if (!res.ok || !body.access_token)
    throw new Error(
      `client credentials for ${clientId}: ${body.error ?? res.status} ${body.error_description ?? ''}`,
    );
  return body.access_token;
}

/** The broker's issuers file for the dev stack: the dev issuer's workload clients (JIT_ISSUERS_FILE). */
export function devIssuersYaml(issuer: string): string {
  return `# Written by the local stack: the dev issuer's client-credentials tokens are workloads.
issuers:
  - name: dev-workloads
    issuer: ${issuer}
    audience: ${WORKLOAD_AUDIENCE}
    kind: workload
    algorithms: [RS256]
    claims:
      clientId: client_id
      repository: repository
      ref: ref
      environment: environment
      jobWorkflowRef: job_workflow_ref
      actor: actor
`;
}

export function writeDevIssuers(file: string, issuer: string): string {
  writeFileSync(file, devIssuersYaml(issuer));
  return file;
}
