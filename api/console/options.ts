// What the console needs to run: where it lives, its OIDC client, its session keys, and the same
// service layer, policy engine, authenticator and store the JSON routes use.
import type { PolicyEngine } from '../../policies/engine.js';
import type { AuditStore } from '../../store/index.js';
import type { Authenticator } from '../auth.js';
import type { GrantService } from '../grant-service.js';

export interface ConsoleKey {
  id: string;
  key: Buffer;
}

export interface ConsoleSettings {
  /** Where browsers reach the console (the API's public URL); its origin is the only one accepted. */
  publicUrl: string;
  issuer: string;
  clientId: string;
  /** Absent for a public client (PKCE alone). */
  clientSecret?: string;
  scopes: string;
  /** RFC 8707 resource indicator, for issuers that need one to mint API access tokens. */
  resource?: string;
  /** Newest first: the first signs cookies and encrypts sessions; all are accepted. */
  sessionKeys: ConsoleKey[];
  /** A session ends after this long even while its tokens refresh. */
  maxSessionSeconds: number;
  /** The AWS federation endpoint: the console sign-in button's form posts redirect there. */
  federationEndpoint: string;
}

export interface ConsoleDeps {
  settings: ConsoleSettings;
  grants: GrantService;
  engine: PolicyEngine;
  authenticator: Authenticator;
  store: AuditStore;
}

/** The console's settings from the broker's configuration; undefined when the console is off. */
export function consoleSettings(config: {
  JIT_CONSOLE_SESSION_KEYS?: ConsoleKey[] | undefined;
  JIT_CONSOLE_URL?: string | undefined;
  JIT_CONSOLE_CLIENT_ID: string;
  JIT_CONSOLE_CLIENT_SECRET?: string | undefined;
  JIT_CONSOLE_SCOPES: string;
  JIT_CONSOLE_RESOURCE?: string | undefined;
  JIT_CONSOLE_SESSION_MAX: number;
  OIDC_ISSUER: string;
  API_HOST: string;
  API_PORT: number;
  AWS_FEDERATION_ENDPOINT: string;
}): ConsoleSettings | undefined {
  if (!config.JIT_CONSOLE_SESSION_KEYS) return undefined;
  const host = config.API_HOST.includes(':') ? `[${config.API_HOST}]` : config.API_HOST;
  return {
    publicUrl: config.JIT_CONSOLE_URL ?? `http://${host}:${config.API_PORT}/`,
    issuer: config.OIDC_ISSUER,
    clientId: config.JIT_CONSOLE_CLIENT_ID,
    ...(config.JIT_CONSOLE_CLIENT_SECRET ? { clientSecret: config.JIT_CONSOLE_CLIENT_SECRET } : {}),
    scopes: config.JIT_CONSOLE_SCOPES,
    ...(config.JIT_CONSOLE_RESOURCE ? { resource: config.JIT_CONSOLE_RESOURCE } : {}),
    sessionKeys: config.JIT_CONSOLE_SESSION_KEYS,
    maxSessionSeconds: config.JIT_CONSOLE_SESSION_MAX,
    federationEndpoint: config.AWS_FEDERATION_ENDPOINT,
  };
}
