// The console's OIDC client (openid-client): authorization code with PKCE, refresh, RP-initiated
// sign-out and token revocation against the configured issuer. The console is a confidential
// client when it has a secret; the tokens never leave the server.
import {
  allowInsecureRequests,
  authorizationCodeGrant,
  buildAuthorizationUrl,
  buildEndSessionUrl,
  ClientSecretBasic,
  type Configuration,
  calculatePKCECodeChallenge,
  discovery,
  None,
  randomNonce,
  randomPKCECodeVerifier,
  randomState,
  refreshTokenGrant,
  type TokenEndpointResponse,
  type TokenEndpointResponseHelpers,
  tokenRevocation,
} from 'openid-client';
import type { ConsoleSettings } from './options.js';
import type { PendingSignIn, SignedInUser } from './session.js';

/** Console paths the issuer redirects to; registered with the issuer as redirect URIs. */
export const CALLBACK_PATH = '/auth/callback';
export const SIGNED_OUT_PATH = '/signed-out';

/** The issuer could not be reached or refused the exchange; the message is for logs (no tokens). */
export class SignInError extends Error {
  override name = 'SignInError';
}

type Tokens = TokenEndpointResponse & TokenEndpointResponseHelpers;

export class ConsoleOidc {
  private config: Promise<Configuration> | undefined;
  readonly redirectUri: string;
  readonly signedOutUri: string;

  constructor(private readonly settings: ConsoleSettings) {
    this.redirectUri = new URL(CALLBACK_PATH, settings.publicUrl).href;
    this.signedOutUri = new URL(SIGNED_OUT_PATH, settings.publicUrl).href;
  }

  /** Discovery once; a failed one is forgotten so the next sign-in tries again. */
  private configuration(): Promise<Configuration> {
    const { issuer, clientId, clientSecret } = this.settings;
    this.config ??= discovery(
      new URL(issuer),
      clientId,
      undefined,
      clientSecret ? ClientSecretBasic(clientSecret) : None(),
      {
        // Plain http only for an issuer on this machine (the dev stack); config refuses it in production.
        ...(new URL(issuer).protocol === 'http:' ? { execute: [allowInsecureRequests] } : {}),
        timeout: 5,
      },
    ).catch((err: unknown) => {
      this.config = undefined;
      throw new SignInError(`OIDC discovery at ${issuer} failed: ${describe(err)}`);
    });
    return this.config;
  }

  /** Where to send the browser, and what its return must match. */
  async start(returnTo: string): Promise<{ url: URL; pending: PendingSignIn }> {
    const config = await this.configuration();
    const pending: PendingSignIn = {
      state: randomState(),
      nonce: randomNonce(),
      codeVerifier: randomPKCECodeVerifier(),
      returnTo,
    };
    const url = buildAuthorizationUrl(config, {
      redirect_uri: this.redirectUri,
      scope: this.settings.scopes,
      code_challenge: await calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
      ...(this.settings.resource ? { resource: this.settings.resource } : {}),
    });
    return { url, pending };
  }

  /** Redeems the code the issuer sent back to `callbackUrl`; checks state, nonce, PKCE and the ID token. */
  async finish(callbackUrl: URL, pending: PendingSignIn, now = Date.now()): Promise<SignedInUser> {
    const config = await this.configuration();
    let tokens: Tokens;
    try {
      tokens = await authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      throw new SignInError(`the issuer's answer was refused: ${describe(err)}`);
    }
    const claims = tokens.claims();
    if (!claims?.sub) throw new SignInError('the ID token names no subject');
    const refresh = tokens.refresh_token;
    const accessTokenExpiresAt = expiresAt(tokens, now);
    const cap = now + this.settings.maxSessionSeconds * 1000;
    return {
      sub: claims.sub,
      ...(typeof claims.name === 'string' ? { name: claims.name } : {}),
      ...(typeof claims.email === 'string' ? { email: claims.email } : {}),
      accessToken: tokens.access_token,
      accessTokenExpiresAt,
      ...(refresh ? { refreshToken: refresh } : {}),
      ...(tokens.id_token ? { idToken: tokens.id_token } : {}),
      // Without a refresh token the session cannot outlive its access token.
      sessionEndsAt: refresh ? cap : Math.min(cap, accessTokenExpiresAt),
    };
  }

  /** New tokens for a session whose access token is (nearly) expired; throws when the issuer says no. */
  async refresh(user: SignedInUser, now = Date.now()): Promise<SignedInUser> {
    if (!user.refreshToken) throw new SignInError('the session has no refresh token');
    const config = await this.configuration();
    let tokens: Tokens;
    try {
      tokens = await refreshTokenGrant(config, user.refreshToken, {
        ...(this.settings.resource ? { resource: this.settings.resource } : {}),
      });
    } catch (err) {
      throw new SignInError(`refresh refused: ${describe(err)}`);
    }
    return {
      ...user,
      accessToken: tokens.access_token,
      accessTokenExpiresAt: expiresAt(tokens, now),
      // Issuers that rotate refresh tokens send a new one; the old one is spent.
      ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
      ...(tokens.id_token ? { idToken: tokens.id_token } : {}),
    };
  }

  /** The issuer's sign-out URL (RP-initiated logout), or undefined when it has none. */
  async endSessionUrl(user: SignedInUser): Promise<URL | undefined> {
    const config = await this.configuration().catch(() => undefined);
    if (!config?.serverMetadata().end_session_endpoint) return undefined;
    return buildEndSessionUrl(config, {
      post_logout_redirect_uri: this.signedOutUri,
      ...(user.idToken ? { id_token_hint: user.idToken } : { client_id: this.settings.clientId }),
    });
  }

  /** Best effort: tells the issuer the refresh token is no longer needed. */
  async revoke(user: SignedInUser): Promise<void> {
    if (!user.refreshToken) return;
    const config = await this.configuration().catch(() => undefined);
    if (!config?.serverMetadata().revocation_endpoint) return;
    await tokenRevocation(config, user.refreshToken, { token_type_hint: 'refresh_token' }).catch(() => {});
  }
}

function expiresAt(tokens: Tokens, now: number): number {
  const seconds = tokens.expiresIn();
  // No expires_in: assume a short life; the next request refreshes or signs in again.
  return now + (seconds ?? 300) * 1000;
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const { error, error_description } = err as { error?: string; error_description?: string };
  if (error) return `${error}${error_description ? `: ${error_description}` : ''}`;
  const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
  return `${err.message}${cause}`;
}
