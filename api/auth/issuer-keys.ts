// The issuer's signing keys: OIDC discovery once, then jose's remote JWKS, which caches the set and
// refetches it (at most every 30 s) when a token names an unknown kid, so key rotation needs nothing here.
import { createRemoteJWKSet, errors, type JWTVerifyGetKey } from 'jose';
import { AuthError } from './errors.js';

const FETCH_TIMEOUT_MS = 5000;

type RemoteJwks = ReturnType<typeof createRemoteJWKSet>;

export interface IssuerKeys {
  getKey: JWTVerifyGetKey;
  /** Discovery and a JWKS fetch now rather than on the first request. */
  warmUp(): Promise<void>;
}

export function issuerKeys(issuer: string): IssuerKeys {
  let jwks: Promise<RemoteJwks> | undefined;
  // One discovery in flight at a time; a failed one is forgotten so the next request tries again.
  const remote = () => {
    jwks ??= discover(issuer).catch((err: unknown) => {
      jwks = undefined;
      throw err;
    });
    return jwks;
  };

  return {
    async getKey(header, token) {
      const keys = await remote();
      try {
        return await keys(header, token);
      } catch (err) {
        if (isAboutTheToken(err)) throw err;
        throw unreachable(issuer, `JWKS: ${describe(err)}`);
      }
    },
    async warmUp() {
      const keys = await remote();
      await keys.reload().catch((err: unknown) => {
        throw unreachable(issuer, `JWKS: ${describe(err)}`);
      });
    },
  };
}

// The token's alg or kid matches no key: the token's fault. Everything else the key set throws comes
// from fetching or reading the JWKS (network, timeout, non-200, malformed set).
function isAboutTheToken(err: unknown): boolean {
  return (
    err instanceof errors.JWKSNoMatchingKey ||
    err instanceof errors.JWKSMultipleMatchingKeys ||
    err instanceof errors.JOSENotSupported
  );
}

async function discover(issuer: string): Promise<RemoteJwks> {
  // Issuers with a path (Keycloak realms, Entra tenants) keep it: the document sits below it.
  const url = new URL('.well-known/openid-configuration', issuer.endsWith('/') ? issuer : `${issuer}/`);
  let metadata: { issuer?: unknown; jwks_uri?: unknown };
  try {
    const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    if (res.status !== 200) throw new Error(`answered HTTP ${res.status}`);
    metadata = (await res.json()) as typeof metadata;
  } catch (err) {
    throw unreachable(issuer, `discovery ${url.href}: ${describe(err)}`);
  }
  // OIDC Discovery §4.3: a document naming another issuer must not be used.
  if (metadata.issuer !== issuer) {
    throw unreachable(
      issuer,
      `discovery names issuer ${JSON.stringify(metadata.issuer)}, configured ${issuer}`,
    );
  }
  const jwksUri = typeof metadata.jwks_uri === 'string' ? URL.parse(metadata.jwks_uri) : null;
  // An https issuer's keys must not be fetched over plain http.
  if (!jwksUri || (jwksUri.protocol !== 'https:' && new URL(issuer).protocol === 'https:')) {
    throw unreachable(issuer, `discovery gives no usable jwks_uri (${JSON.stringify(metadata.jwks_uri)})`);
  }
  return createRemoteJWKSet(jwksUri, { timeoutDuration: FETCH_TIMEOUT_MS });
}

function unreachable(issuer: string, detail: string): AuthError {
  return new AuthError(
    'issuer_unreachable',
    `the identity provider ${issuer} cannot be reached to check the token; try again later`,
    detail,
  );
}

export function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // fetch reports network failures as "fetch failed" with the reason in `cause`.
  const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
  return `${err.message}${cause}`;
}
