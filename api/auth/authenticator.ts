// Bearer JWTs from the configured OIDC issuer, checked as DESIGN.md "Identity" says: signature by
// the issuer's current keys, issuer, audience, expiry with a little clock skew, an algorithm
// allow-list, a subject. Groups come from a configurable claim.
import { errors, type JWTPayload, jwtVerify } from 'jose';
import type { Principal } from '../../common/grant.js';
import { AuthError } from './errors.js';
import { describe, issuerKeys } from './issuer-keys.js';

export interface Authenticator {
  /** The caller behind an `Authorization` header value; throws AuthError. */
  authenticate(authorizationHeader: string | undefined): Promise<Principal>;
  /** Discovery and the JWKS ahead of the first request; throws AuthError if the issuer is unreachable. */
  warmUp(): Promise<void>;
}

export interface AuthenticatorOptions {
  issuer: string;
  audience: string;
  /** Claim holding the caller's groups: `groups`, `cognito:groups`, ... */
  groupsClaim: string;
  clockToleranceSeconds?: number;
  algorithms?: string[];
}

// Asymmetric only. `none` would accept unsigned tokens and HS* would let anyone holding the issuer's
// public key (everyone) sign tokens with it as the HMAC secret.
const DEFAULT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'];

// RFC 9068 access tokens say `at+jwt`; many IdPs say `JWT` or nothing (Cognito). Anything else is
// another kind of JWT (logout token, DPoP proof, ...) that must not pass as an access token.
const ACCEPTED_TYP = new Set(['at+jwt', 'jwt']);

// RFC 6750 §2.1: "Bearer" 1*SP b64token.
const BEARER = /^Bearer +([\w\-.~+/]+=*)$/i;

const INVALID = 'the token is not valid for this API';

export function createAuthenticator(opts: AuthenticatorOptions): Authenticator {
  const algorithms = opts.algorithms ?? DEFAULT_ALGORITHMS;
  if (algorithms.length === 0 || algorithms.some((alg) => alg === 'none' || /^HS/i.test(alg))) {
    throw new Error(`OIDC token algorithms must be asymmetric, got [${algorithms.join(', ')}]`);
  }
  const keys = issuerKeys(opts.issuer);

  const verify = async (token: string): Promise<JWTPayload> => {
    const { payload, protectedHeader } = await jwtVerify(token, keys.getKey, {
      issuer: opts.issuer,
      audience: opts.audience,
      algorithms,
      clockTolerance: opts.clockToleranceSeconds ?? 30,
      requiredClaims: ['exp', 'sub'],
    });
    const typ = protectedHeader.typ?.toLowerCase().replace(/^application\//, '');
    if (typ !== undefined && !ACCEPTED_TYP.has(typ)) {
      throw new AuthError('invalid_token', INVALID, 'not an access token (typ header)');
    }
    if (typeof payload.sub !== 'string' || payload.sub === '') {
      throw new AuthError('invalid_token', INVALID, '"sub" claim is not a non-empty string');
    }
    return payload;
  };

  return {
    warmUp: keys.warmUp,
    async authenticate(header) {
      if (!header) throw new AuthError('missing_token', 'this API needs a bearer token');
      const token = BEARER.exec(header)?.[1];
      if (!token) {
        throw new AuthError('malformed_header', "the Authorization header must be 'Bearer <token>'");
      }
      try {
        return toPrincipal(await verify(token), opts.groupsClaim);
      } catch (err) {
        if (err instanceof AuthError) throw err;
        if (err instanceof errors.JWTExpired) throw new AuthError('expired', 'the token has expired');
        throw new AuthError('invalid_token', INVALID, describe(err));
      }
    },
  };
}

function toPrincipal(payload: JWTPayload, groupsClaim: string): Principal {
  const raw = payload[groupsClaim];
  const groups = Array.isArray(raw)
    ? raw.filter((group): group is string => typeof group === 'string')
    : typeof raw === 'string'
      ? [raw]
      : [];
  const principal: Principal = { sub: payload.sub as string, groups };
  if (typeof payload.email === 'string') principal.email = payload.email;
  return principal;
}
