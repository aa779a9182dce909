// The token cache: one file per config dir, readable only by its owner, refreshed before it goes stale.
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TokenEndpointResponse } from 'openid-client';
import type { CliConfig } from './config.js';
import { notLoggedIn, sessionExpired } from './errors.js';
import { audienceParameters, discoverIssuer, openidClient } from './oidc.js';
import { providedToken } from './provided-token.js';

export interface CachedTokens {
  issuer: string;
  /** The client the tokens were issued to; absent in caches written before it was a setting. */
  client_id?: string;
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  /** Epoch milliseconds. */
  expires_at: number;
}

/** Refresh this early so a token never expires between reading it and the API checking it. */
const REFRESH_MARGIN_MS = 60_000;

export const tokenCachePath = (config: CliConfig) => join(config.dir, 'tokens.json');

export function readTokens(config: CliConfig): CachedTokens | undefined {
  try {
    const tokens = JSON.parse(readFileSync(tokenCachePath(config), 'utf8')) as CachedTokens;
    // Tokens from another issuer or client are no login for this one.
    if (tokens.issuer !== config.issuer || !tokens.access_token) return undefined;
    if (tokens.client_id !== undefined && tokens.client_id !== config.clientId) return undefined;
    return tokens;
  } catch {
    return undefined;
  }
}

export function saveTokens(
  config: CliConfig,
  response: TokenEndpointResponse,
  previous?: CachedTokens,
): CachedTokens {
  const tokens: CachedTokens = {
    issuer: config.issuer,
    client_id: config.clientId,
    access_token: response.access_token,
    // Issuers that do not rotate refresh tokens omit it from a refresh response: keep the old one.
    ...((response.refresh_token ?? previous?.refresh_token)
      ? { refresh_token: response.refresh_token ?? previous?.refresh_token }
      : {}),
    ...((response.id_token ?? previous?.id_token)
      ? { id_token: response.id_token ?? previous?.id_token }
      : {}),
    expires_at: Date.now() + (response.expires_in ?? expiresInFromJwt(response.access_token)) * 1000,
  };
  mkdirSync(config.dir, { recursive: true, mode: 0o700 });
  chmodSync(config.dir, 0o700);
  // Written aside and renamed: a reader never sees half a file, and the mode holds from the first byte.
  const path = tokenCachePath(config);
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(tokens, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
  return tokens;
}

export function deleteTokens(config: CliConfig): boolean {
  const path = tokenCachePath(config);
  const existed = readTokens(config) !== undefined;
  rmSync(path, { force: true });
  return existed;
}

/** A fresh access token, refreshed through the issuer when it is expired or about to be. */
export async function accessToken(config: CliConfig): Promise<string> {
  // Scripts and CI pass a token; then no login is read, refreshed or asked for.
  const provided = providedToken(config);
  if (provided) return provided;
  const tokens = readTokens(config);
  if (!tokens) throw notLoggedIn();
  if (tokens.expires_at - REFRESH_MARGIN_MS > Date.now()) return tokens.access_token;
  if (!tokens.refresh_token) throw sessionExpired();
  const oidc = await discoverIssuer(config);
  const { refreshTokenGrant } = await openidClient();
  let response: TokenEndpointResponse;
  try {
    response = await refreshTokenGrant(oidc, tokens.refresh_token, audienceParameters(config));
  } catch {
    // A revoked, expired or unknown refresh token: only a new login helps.
    throw sessionExpired();
  }
  return saveTokens(config, response, tokens).access_token;
}

/** The claims of a JWT, unverified: the CLI only displays them, the API verifies. */
export function jwtClaims(token: string): Record<string, unknown> {
  const payload = token.split('.')[1];
  if (!payload) return {};
  try {
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

function expiresInFromJwt(token: string): number {
  const exp = jwtClaims(token).exp;
  // Opaque token without expires_in: assume it is short-lived, so the next use refreshes.
  return typeof exp === 'number' ? exp - Date.now() / 1000 : 0;
}
