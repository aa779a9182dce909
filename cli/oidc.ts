// The CLI as an OIDC public client: device flow to log in, refresh token to stay logged in. The client
// id, scopes and audience are settings (cli/config.ts). openid-client is loaded only when a command
// talks to the issuer, so `jit --help` and a cached `jit creds` do not pay for it.
import type { Configuration } from 'openid-client';
import type { CliConfig } from './config.js';
import { CliError, Unreachable } from './errors.js';

export const openidClient = () => import('openid-client');

/** Plain http only to a loopback issuer (the local stack); anything else must be https. */
function isLoopbackHttp(issuer: URL): boolean {
  return issuer.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(issuer.hostname);
}

export async function discoverIssuer(config: CliConfig): Promise<Configuration> {
  const { allowInsecureRequests, discovery, None } = await openidClient();
  const url = new URL(config.issuer);
  try {
    return await discovery(url, config.clientId, undefined, None(), {
      ...(isLoopbackHttp(url) ? { execute: [allowInsecureRequests] } : {}),
    });
  } catch (err) {
    // fetch reports refused connections, DNS and resets as TypeError.
    if (err instanceof TypeError) {
      throw new Unreachable(
        `OIDC issuer ${config.issuer} is not reachable; check --issuer or JIT_OIDC_ISSUER`,
      );
    }
    throw err;
  }
}

/**
 * The API's audience for issuers that need it named: `audience` (Auth0, Keycloak and others) and,
 * when it is a URI, RFC 8707 `resource` (oidc-provider, the dev issuer). Unset: the issuer's default.
 */
export function audienceParameters(config: CliConfig): Record<string, string> {
  if (!config.audience) return {};
  return {
    audience: config.audience,
    ...(URL.canParse(config.audience) ? { resource: config.audience } : {}),
  };
}

/** An OAuth error from the issuer as a sentence naming the setting to look at. */
export function issuerRefusal(err: unknown, config: CliConfig): CliError | undefined {
  const code = (err as { error?: unknown }).error;
  if (typeof code !== 'string') return undefined;
  const description = (err as { error_description?: unknown }).error_description;
  const detail = typeof description === 'string' && description ? `: ${description}` : '';
  const hint: Record<string, string> = {
    invalid_client: `the issuer does not know the client id "${config.clientId}" (JIT_OIDC_CLIENT_ID)`,
    unauthorized_client: `the client "${config.clientId}" may not use the device flow at this issuer (JIT_OIDC_CLIENT_ID)`,
    invalid_scope: `the issuer refused the scopes "${config.scopes}" (JIT_OIDC_SCOPES)`,
    invalid_target: `the issuer refused the audience "${config.audience ?? ''}" (JIT_OIDC_AUDIENCE)`,
  };
  return new CliError(
    `login refused by ${config.issuer} (${code}${detail})${hint[code] ? `; ${hint[code]}` : ''}`,
  );
}
