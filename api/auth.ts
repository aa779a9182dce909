// Bearer JWTs from the configured OIDC issuer: discovery once, a cached JWKS that follows key
// rotation, and the checks of DESIGN.md "Identity". Every route needs a principal unless its
// config says `public: true`.
import type { FastifyInstance } from 'fastify';
import { createRemoteJWKSet, type JWTPayload, errors as joseErrors, jwtVerify } from 'jose';
import type { Principal } from '../common/grant.js';
import { errorBody } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyContextConfig {
    /** Health, readiness, metrics and the OpenAPI document answer without a token. */
    public?: boolean;
  }
}

export type AuthFailure =
  | 'missing_token'
  | 'malformed_header'
  | 'invalid_token'
  | 'expired'
  | 'issuer_unreachable';

/** Safe to show: never carries the token. */
export class AuthError extends Error {
  override name = 'AuthError';
  readonly code = 'unauthenticated';
  constructor(
    readonly reason: AuthFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface Authenticator {
  authenticate(authorizationHeader: string | undefined): Promise<Principal>;
  /** Fetches discovery and the JWKS ahead of the first request. */
  warmUp(): Promise<void>;
}

// Asymmetric only: `none` and HS* (a public key used as an HMAC secret) are never accepted.
const DEFAULT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'];

export function createAuthenticator(opts: {
  issuer: string;
  audience: string;
  groupsClaim: string;
  clockToleranceSeconds?: number;
  algorithms?: string[];
}): Authenticator {
  let jwks: ReturnType<typeof createRemoteJWKSet> | undefined;

  const keys = async () => {
    if (jwks) return jwks;
    let discovered: { issuer?: unknown; jwks_uri?: unknown };
    try {
      const res = await fetch(
        new URL('.well-known/openid-configuration', `${opts.issuer.replace(/\/$/, '')}/`),
        {
          signal: AbortSignal.timeout(5000),
        },
      );
      if (!res.ok) throw new Error(`discovery answered ${res.status}`);
      discovered = (await res.json()) as typeof discovered;
    } catch {
      throw new AuthError('issuer_unreachable', 'the identity provider is not reachable; try again');
    }
    if (discovered.issuer !== opts.issuer || typeof discovered.jwks_uri !== 'string') {
      throw new AuthError(
        'issuer_unreachable',
        'the identity provider discovery document does not match the configured issuer',
      );
    }
    jwks = createRemoteJWKSet(new URL(discovered.jwks_uri), {
      cooldownDuration: 30_000,
      timeoutDuration: 5000,
    });
    return jwks;
  };

  const toPrincipal = (payload: JWTPayload): Principal => {
    const raw = payload[opts.groupsClaim];
    const groups = Array.isArray(raw)
      ? raw.filter((g): g is string => typeof g === 'string')
      : typeof raw === 'string'
        ? [raw]
        : [];
    const email = typeof payload.email === 'string' ? payload.email : undefined;
    return { sub: payload.sub as string, groups, ...(email ? { email } : {}) };
  };

  return {
    async warmUp() {
      await keys();
    },
    async authenticate(header) {
      if (!header) throw new AuthError('missing_token', 'a bearer token is required');
      const match = /^Bearer +(\S+)$/i.exec(header.trim());
      if (!match?.[1])
        throw new AuthError('malformed_header', 'the Authorization header must be "Bearer <token>"');
      const keySet = await keys();
      try {
        const { payload } = await jwtVerify(match[1], keySet, {
          issuer: opts.issuer,
          audience: opts.audience,
          algorithms: opts.algorithms ?? DEFAULT_ALGORITHMS,
          clockTolerance: opts.clockToleranceSeconds ?? 30,
          requiredClaims: ['exp', 'sub'],
        });
        if (typeof payload.sub !== 'string' || payload.sub.length === 0) {
          throw new AuthError('invalid_token', 'the token has no subject');
        }
        return toPrincipal(payload);
      } catch (err) {
        if (err instanceof AuthError) throw err;
        if (err instanceof joseErrors.JWTExpired) throw new AuthError('expired', 'the token has expired');
        if (err instanceof joseErrors.JWKSTimeout) {
          throw new AuthError('issuer_unreachable', 'the identity provider is not reachable; try again');
        }
        throw new AuthError('invalid_token', 'the token is not valid for this API');
      }
    },
  };
}

/** RFC 6750 challenge. */
export function wwwAuthenticate(err?: AuthError): string {
  if (!err || err.reason === 'missing_token') return 'Bearer realm="jit-broker"';
  const code = err.reason === 'malformed_header' ? 'invalid_request' : 'invalid_token';
  return `Bearer realm="jit-broker", error="${code}", error_description="${err.message.replace(/"/g, "'")}"`;
}

export function registerAuth(app: FastifyInstance, authenticator: Authenticator): void {
  app.decorateRequest('principal', null as unknown as Principal);
  app.addHook('onRequest', async (req, reply) => {
    if (req.routeOptions.config?.public) return;
    // Unknown routes answer 404 without asking for a token first.
    if (!req.routeOptions.url) return;
    try {
      req.principal = await authenticator.authenticate(req.headers.authorization);
    } catch (err) {
      const authErr =
        err instanceof AuthError
          ? err
          : new AuthError('invalid_token', 'the token is not valid for this API');
      req.log.warn({ reason: authErr.reason }, 'authentication failed');
      return reply
        .code(401)
        .header('www-authenticate', wwwAuthenticate(authErr))
        .send(errorBody('unauthenticated', authErr.message, req.id));
    }
  });
}
