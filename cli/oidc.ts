// The CLI as an OIDC public client (`jit-cli`): device flow to log in, refresh token to stay logged in.
import { allowInsecureRequests, type Configuration, discovery, None } from 'openid-client';
import { CLIENT_ID } from './config.js';
import { CliError } from './errors.js';

export const SCOPE = 'openid profile email groups offline_access';

/** Plain http only to a loopback issuer (the local stack); anything else must be https. */
function isLoopbackHttp(issuer: URL): boolean {
  return issuer.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(issuer.hostname);
}

export async function discoverIssuer(issuer: string): Promise<Configuration> {
  const url = new URL(issuer);
  try {
    return await discovery(url, CLIENT_ID, undefined, None(), {
      ...(isLoopbackHttp(url) ? { execute: [allowInsecureRequests] } : {}),
    });
  } catch (err) {
    // fetch reports refused connections, DNS and resets as TypeError.
    if (err instanceof TypeError) {
      throw new CliError(`OIDC issuer ${issuer} is not reachable; check --issuer or JIT_OIDC_ISSUER`);
    }
    throw err;
  }
}
