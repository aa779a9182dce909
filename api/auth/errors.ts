// What the API tells a caller whose request carries no acceptable token. The message goes on the wire,
// so it is fixed text and never quotes the token; `detail` is for the server's log only.

export type AuthFailure =
  | 'missing_token'
  | 'malformed_header'
  | 'invalid_token'
  | 'expired'
  | 'issuer_unreachable'
  | 'unknown_issuer';

export class AuthError extends Error {
  override name = 'AuthError';
  /** The error code on the wire: a token from an issuer nobody configured says so. */
  get code(): 'unauthenticated' | 'unknown_issuer' {
    return this.reason === 'unknown_issuer' ? 'unknown_issuer' : 'unauthenticated';
  }
  constructor(
    readonly reason: AuthFailure,
    message: string,
    /** Why, for operators (a jose error message, a discovery problem); never token content. */
    readonly detail?: string,
  ) {
    super(message);
  }
}

const REALM = 'jit-broker';

// RFC 6750 §3.1 codes. None when no token came (the spec says so) or when the issuer could not be
// asked: the token was not judged, so a client must not throw it away.
const challengeError: Record<AuthFailure, string | undefined> = {
  missing_token: undefined,
  malformed_header: 'invalid_request',
  invalid_token: 'invalid_token',
  expired: 'invalid_token',
  issuer_unreachable: undefined,
  unknown_issuer: 'invalid_token',
};

/**
 * A valid workload token whose attributes match no workload of the catalog: authenticated, but
 * nobody the broker knows (403 `workload_not_mapped`). `attributes` are for the log, never secret.
 */
export class WorkloadNotMappedError extends Error {
  override name = 'WorkloadNotMappedError';
  readonly code = 'workload_not_mapped';
  constructor(
    readonly issuer: string,
    readonly attributes: Record<string, string | undefined>,
  ) {
    super(`this ${issuer} token maps to no workload of the catalog`);
  }
}

/** The `WWW-Authenticate` value (RFC 6750) for a 401. */
export function wwwAuthenticate(err?: AuthError): string {
  const challenge = `Bearer realm="${REALM}"`;
  const error = err && challengeError[err.reason];
  if (!err || !error) return challenge;
  // error_description allows printable ASCII except '"' and '\'.
  const description = err.message.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, "'");
  return `${challenge}, error="${error}", error_description="${description}"`;
}
