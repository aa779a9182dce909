// Bearer JWTs from the trusted issuers, checked as docs/architecture.md says: the token's issuer
// picks its configuration (api/auth/issuers.ts); then signature by that issuer's current keys,
// audience, expiry with a little clock skew, an algorithm allow-list, a subject. People get their
// groups from a configurable claim; workloads get attributes from their issuer's claim mapping and
// must be a workload of the catalog.
import { decodeJwt, errors, type JWTPayload, jwtVerify } from 'jose';
import type { Principal, WorkloadAttribute } from '../../common/grant.js';
import { WORKLOAD_SUB_PREFIX, workloadSub } from '../../common/identity.js';
import type { TokenAttribute } from '../../policies/types.js';
import { AuthError, WorkloadNotMappedError } from './errors.js';
import { describe, type IssuerKeys, issuerKeys } from './issuer-keys.js';
import { defaultPersonIssuer, type IssuerConfig } from './issuers.js';

export interface Authenticator {
  /** The caller behind an `Authorization` header value; throws AuthError or WorkloadNotMappedError. */
  authenticate(authorizationHeader: string | undefined): Promise<Principal>;
  /** Discovery and the JWKS ahead of the first request; throws AuthError if an issuer is unreachable. */
  warmUp(): Promise<void>;
}

export interface AuthenticatorOptions {
  /** The default issuer of people (ignored when `issuers` is given)... */
  issuer?: string;
  audience?: string;
  /** ...and the claim holding their groups: `groups`, `cognito:groups`, ... */
  groupsClaim?: string;
  clockToleranceSeconds?: number;
  algorithms?: string[];
  /** Every trusted issuer (README, "Workloads"); default: the one above. */
  issuers?: IssuerConfig[];
  /** The catalog workload a workload token is, by its issuer's name and mapped attributes. */
  resolveWorkload?: (
    issuer: string,
    attributes: Partial<Record<TokenAttribute, string>>,
  ) => string | undefined;
}

// RFC 9068 access tokens say `at+jwt`; many IdPs say `JWT` or nothing (Cognito). Anything else is
// another kind of JWT (logout token, DPoP proof, ...) that must not pass as an access token.
const ACCEPTED_TYP = new Set(['at+jwt', 'jwt']);

// RFC 6750 §2.1: "Bearer" 1*SP b64token.
const BEARER = /^Bearer +([\w\-.~+/]+=*)$/i;

const INVALID = 'the token is not valid for this API';

export function createAuthenticator(opts: AuthenticatorOptions): Authenticator {
  const issuers = opts.issuers ?? [
    defaultPersonIssuer({
      issuer: opts.issuer ?? '',
      audience: opts.audience ?? '',
      groupsClaim: opts.groupsClaim ?? 'groups',
      algorithms: opts.algorithms,
      clockToleranceSeconds: opts.clockToleranceSeconds,
    }),
  ];
  for (const entry of issuers) {
    if (entry.algorithms.length === 0 || entry.algorithms.some((alg) => alg === 'none' || /^HS/i.test(alg))) {
      throw new Error(`OIDC token algorithms must be asymmetric, got [${entry.algorithms.join(', ')}]`);
    }
  }
  // One key set per issuer URL, shared by entries that differ only in audience.
  const keysByIssuer = new Map<string, IssuerKeys>();
  for (const entry of issuers)
    if (!keysByIssuer.has(entry.issuer)) keysByIssuer.set(entry.issuer, issuerKeys(entry.issuer));

  /** The configuration a token claims to be for; nothing is trusted until jwtVerify says so. */
  const configFor = (token: string): IssuerConfig => {
    let claims: JWTPayload;
    try {
      claims = decodeJwt(token);
    } catch {
      throw new AuthError('invalid_token', INVALID, 'not a JWT');
    }
    const candidates = issuers.filter((entry) => entry.issuer === claims.iss);
    if (candidates.length === 0) {
      if (typeof claims.iss !== 'string') throw new AuthError('invalid_token', INVALID, 'no "iss" claim');
      throw new AuthError(
        'unknown_issuer',
        'tokens from this issuer are not accepted here',
        `iss ${claims.iss}`,
      );
    }
    const audiences =
      typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
    // The one with the token's audience; otherwise the first, whose check then names the mismatch.
    return candidates.find((entry) => audiences.includes(entry.audience)) ?? (candidates[0] as IssuerConfig);
  };

  const verify = async (token: string, entry: IssuerConfig): Promise<JWTPayload> => {
    const keys = keysByIssuer.get(entry.issuer) as IssuerKeys;
    const { payload, protectedHeader } = await jwtVerify(token, keys.getKey, {
      issuer: entry.issuer,
      audience: entry.audience,
      algorithms: entry.algorithms,
      clockTolerance: entry.clockToleranceSeconds,
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

  const toWorkload = (payload: JWTPayload, entry: IssuerConfig): Principal => {
    const attributes: Partial<Record<WorkloadAttribute, string>> = { issuer: entry.name };
    for (const [attribute, claim] of Object.entries(entry.claims)) {
      const value = payload[claim];
      if (typeof value === 'string' && value !== '') attributes[attribute as TokenAttribute] = value;
    }
    const { issuer: _issuer, ...tokenAttributes } = attributes;
    const name = opts.resolveWorkload?.(entry.name, tokenAttributes);
    if (!name) throw new WorkloadNotMappedError(entry.name, tokenAttributes);
    return { kind: 'workload', sub: workloadSub(name), groups: [], attributes };
  };

  return {
    async warmUp() {
      await Promise.all([...keysByIssuer.values()].map((keys) => keys.warmUp()));
    },
    async authenticate(header) {
      if (!header) throw new AuthError('missing_token', 'this API needs a bearer token');
      const token = BEARER.exec(header)?.[1];
      if (!token) {
        throw new AuthError('malformed_header', "the Authorization header must be 'Bearer <token>'");
      }
      const entry = configFor(token);
      let payload: JWTPayload;
      try {
        payload = await verify(token, entry);
      } catch (err) {
        if (err instanceof AuthError) throw err;
        if (err instanceof errors.JWTExpired) throw new AuthError('expired', 'the token has expired');
        throw new AuthError('invalid_token', INVALID, describe(err));
      }
      if (entry.kind === 'workload') return toWorkload(payload, entry);
      // The workload prefix is the broker's: a person's subject never carries it.
      if ((payload.sub as string).startsWith(WORKLOAD_SUB_PREFIX))
        throw new AuthError(
          'invalid_token',
          INVALID,
          `a person's "sub" may not start with ${WORKLOAD_SUB_PREFIX}`,
        );
      return toPerson(payload, entry.groupsClaim);
    },
  };
}

function toPerson(payload: JWTPayload, groupsClaim: string): Principal {
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
