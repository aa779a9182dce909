// The local stack's OIDC issuer: oidc-provider with the device flow for
// `jit login`, the dev users, and JWT access tokens for the broker API. Development only.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, {
  type Configuration,
  errors,
  type FindAccount,
  type JWKS,
  type KoaContextWithOIDC,
} from 'oidc-provider';
import { type Logger, pino } from 'pino';
import { FEDERATION_PATH, federationStandIn } from '../aws/federation.js';
import {
  CONSOLE_CALLBACK_PATH,
  CONSOLE_CLIENT_ID,
  CONSOLE_CLIENT_SECRET,
  CONSOLE_SIGNED_OUT_PATH,
  isLoopbackConsoleUri,
} from './console-client.js';
import { devClients, findDevClient, WORKLOAD_AUDIENCE } from './dev-clients.js';
import { devUsers } from './dev-users.js';
import { handleInteraction } from './interactions.js';
import { DEFAULT_KEYS_FILE, loadSigningKeys, SIGNING_ALG } from './keys.js';
import {
  logoutSource,
  postLogoutSuccessSource,
  renderError,
  successSource,
  userCodeConfirmSource,
  userCodeInputSource,
} from './pages.js';

const CLI_CLIENT_ID = 'jit-cli';
const DEFAULT_API_AUDIENCE = 'jit-broker-api';

const SCOPES = 'openid profile email groups offline_access';
const ACCESS_TOKEN_TTL = 3600;
const DAY = 24 * 3600;

export interface DevIssuerOptions {
  host?: string;
  /** 0 picks a free port; the issuer URL then carries the port actually bound. */
  port: number;
  issuer?: string;
  apiAudience?: string;
  keysFile?: string;
  logger?: Logger;
  /** Serves the AWS console federation stand-in at /federation, checking credentials at this AWS endpoint. */
  federation?: { awsEndpoint: string; region: string };
}

export interface DevIssuer {
  url: string;
  close(): Promise<void>;
}

export async function startDevIssuer(opts: DevIssuerOptions): Promise<DevIssuer> {
  if (process.env.NODE_ENV === 'production') {
    throw new Error(
      'the dev OIDC issuer has dev passwords in code; it refuses to run with NODE_ENV=production',
    );
  }
  const host = opts.host ?? '127.0.0.1';
  const logger = opts.logger ?? pino({ name: 'dev-oidc' });
  const jwks = await loadSigningKeys(opts.keysFile ?? DEFAULT_KEYS_FILE);

  // Listen first: with port 0 the issuer URL is only known once the port is bound.
  const server = createServer();
  const { port } = await listen(server, host, opts.port);
  const url = opts.issuer ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  try {
    const provider = createProvider(url, opts.apiAudience ?? DEFAULT_API_AUDIENCE, jwks);
    provider.on('server_error', (_ctx, err) => logger.error({ err }, 'dev OIDC issuer error'));
    const oidc = provider.callback();
    const federation = opts.federation ? federationStandIn(opts.federation) : undefined;
    server.on('request', (req, res) => {
      const path = req.url?.split('?')[0];
      if (federation && path === FEDERATION_PATH) return federation(req, res);
      if (!req.url?.startsWith('/interaction/')) return oidc(req, res);
      handleInteraction(provider, req, res, logger);
    });
  } catch (err) {
    await close(server);
    throw err;
  }
  return { url, close: () => close(server) };
}

function createProvider(issuer: string, apiAudience: string, jwks: JWKS): Provider {
  // Resource indicators must be absolute URIs, audiences need not be: map a bare audience to a URN.
  const resource = URL.canParse(apiAudience) ? apiAudience : `urn:${apiAudience}`;
  // Workload clients' tokens are for another audience than people's.
  const workloadResource = `urn:${WORKLOAD_AUDIENCE}`;
  const provider = new Provider(issuer, {
    jwks,
    clients: [
      {
        client_id: CLI_CLIENT_ID,
        client_name: 'jit CLI (dev)',
        token_endpoint_auth_method: 'none',
        grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
        response_types: [],
        redirect_uris: [],
        // Left 'web': oidc-provider always asks native clients for consent, and dev consent is automatic.
      },
      ...devClients.map((client) => ({
        client_id: client.clientId,
        client_secret: client.secret,
        client_name: `${client.clientId} (dev workload)`,
        token_endpoint_auth_method: 'client_secret_basic' as const,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
      })),
      {
        client_id: CONSOLE_CLIENT_ID,
        client_name: 'jit-broker console (dev)',
        client_secret: CONSOLE_CLIENT_SECRET,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        // The default local stack; any loopback port is accepted too (allowLoopbackConsolePorts).
        redirect_uris: [`http://127.0.0.1:8080${CONSOLE_CALLBACK_PATH}`],
        post_logout_redirect_uris: [`http://127.0.0.1:8080${CONSOLE_SIGNED_OUT_PATH}`],
      },
    ],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
      groups: ['groups'],
    },
    // Cookie signing key: not a secret, like the dev passwords.
    cookies: { keys: ['jit-broker-dev-oidc-cookies-not-a-secret'] },
    findAccount,
    extraTokenClaims,
    loadExistingGrant: grantWhatIsRequested,
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    features: {
      devInteractions: { enabled: false },
      deviceFlow: { enabled: true, userCodeInputSource, userCodeConfirmSource, successSource },
      clientCredentials: { enabled: true },
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
      revocation: {
        enabled: true,
        // A client revokes only its own tokens.
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx, client) =>
          client && findDevClient(client.clientId) ? workloadResource : resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator, client) => {
          const workload = findDevClient(client.clientId) !== undefined;
          if (workload && indicator === workloadResource) {
            return {
              scope: '',
              audience: WORKLOAD_AUDIENCE,
              accessTokenFormat: 'jwt',
              accessTokenTTL: ACCESS_TOKEN_TTL,
              jwt: { sign: { alg: SIGNING_ALG } },
            };
          }
          if (indicator !== resource || workload) throw new errors.InvalidTarget();
          return {
            scope: SCOPES,
            audience: apiAudience,
            accessTokenFormat: 'jwt',
            accessTokenTTL: ACCESS_TOKEN_TTL,
            jwt: { sign: { alg: SIGNING_ALG } },
          };
        },
      },
    },
    // Explicit TTLs (the defaults log a notice on every use); the API resource server sets its own.
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? ACCESS_TOKEN_TTL,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? ACCESS_TOKEN_TTL,
      DeviceCode: 600,
      Grant: 14 * DAY,
      IdToken: 3600,
      Interaction: 600,
      RefreshToken: 14 * DAY,
      Session: 14 * DAY,
    },
    // OIDC drops offline_access from a code flow without prompt=consent (which would show a consent
    // screen): the console client gets its refresh token anyway, so its session outlives one access token.
    issueRefreshToken: async (_ctx, client, code) =>
      client.grantTypeAllowed('refresh_token') &&
      (code.scopes.has('offline_access') || client.clientId === CONSOLE_CLIENT_ID),
    // OAuth 2.1: every code flow uses PKCE, confidential clients too.
    pkce: { required: () => true },
    renderError,
  });
  allowLoopbackConsolePorts(provider);
  provider.use(async (ctx: KoaContextWithOIDC, next) => {
    await next();
    // Without `interval` RFC 8628 clients wait 5 s between polls; one second keeps dev logins quick.
    // ctx.oidc is only defined on oidc-provider's own routes, hence the optional chaining.
    if (ctx.oidc?.route === 'device_authorization' && ctx.status === 200) {
      (ctx.body as { interval?: number }).interval = 1;
    }
  });
  return provider;
}

/**
 * The console client may redirect to its callback on a loopback origin with any port (oidc-provider
 * allows that only for native clients, which always get a consent screen).
 */
function allowLoopbackConsolePorts(provider: Provider): void {
  const client = provider.Client.prototype;
  const redirect = client.redirectUriAllowed;
  const postLogout = client.postLogoutRedirectUriAllowed;
  client.redirectUriAllowed = function (this: typeof client, value: string) {
    return (
      redirect.call(this, value) ||
      (this.clientId === CONSOLE_CLIENT_ID && isLoopbackConsoleUri(value, CONSOLE_CALLBACK_PATH))
    );
  };
  client.postLogoutRedirectUriAllowed = function (this: typeof client, value: string) {
    return (
      postLogout.call(this, value) ||
      (this.clientId === CONSOLE_CLIENT_ID && isLoopbackConsoleUri(value, CONSOLE_SIGNED_OUT_PATH))
    );
  };
}

const findAccount: FindAccount = async (_ctx, sub) => {
  const user = devUsers.find((candidate) => candidate.sub === sub);
  if (!user) return undefined;
  return {
    accountId: user.sub,
    claims: () => ({
      sub: user.sub,
      email: user.email,
      email_verified: user.email_verified,
      name: user.name,
      preferred_username: user.username,
      groups: user.groups,
    }),
  };
};

// The API authorises on email and groups, so every access token carries them whatever the scope;
// a workload client's token carries its pipeline claims.
const extraTokenClaims: Configuration['extraTokenClaims'] = async (_ctx, token) => {
  const accountId = 'accountId' in token ? token.accountId : undefined;
  if (!accountId) return findDevClient(token.clientId ?? '')?.claims;
  const user = devUsers.find((candidate) => candidate.sub === accountId);
  return user && { email: user.email, groups: user.groups };
};

// Dev clients are first party: grant whatever they request, so there is never a consent screen.
const grantWhatIsRequested: Configuration['loadExistingGrant'] = async (ctx) => {
  const { oidc } = ctx;
  const { account, client, session } = oidc;
  // oidc-provider loads the grant only once an account is logged in for a client's session.
  if (!account || !client || !session) throw new Error('loadExistingGrant called without a login');
  const { Grant } = oidc.provider;
  const grantId = session.grantIdFor(client.clientId);
  const grant =
    (grantId && (await Grant.find(grantId))) ||
    new Grant({ accountId: account.accountId, clientId: client.clientId });
  grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(' '));
  for (const indicator of Object.keys(oidc.resourceServers ?? {})) {
    grant.addResourceScope(indicator, [...oidc.requestParamScopes].join(' '));
  }
  await grant.save();
  return grant;
};

function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EADDRINUSE') return reject(err);
      reject(
        new Error(`dev OIDC issuer: ${host}:${port} is already in use; stop what holds it or set OIDC_PORT`),
      );
    });
    server.listen(port, host, () => resolve(server.address() as AddressInfo));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    // Keep-alive connections from clients would otherwise hold close() open.
    server.closeAllConnections();
  });
}
