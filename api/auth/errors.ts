// What the API tells a caller whose request carries no acceptable token. The message goes on the wire,
// so it is fixed text and never quotes the token; `detail` is for the server's log only.

export type AuthFailure =
  | 'missing_token'
  | 'malformed_header'
  | 'invalid_token'
  | 'expired'
  | 'issuer_unreachable';

export class AuthError extends Error {
  override name = 'AuthError';
  readonly code = 'unauthenticated';
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
};

/** The `WWW-Authenticate` value (RFC 6750) for a 401. */
export function wwwAuthenticate(err?: AuthError): string {
  const challenge = `Bearer realm="${REALM}"`;
  const error = err && challengeError[err.reason];
  if (!err || !error) return challenge;
  // error_description allows printable ASCII except '"' and '\'.
  const description = err.message.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, "'");
  return `${challenge}, error="${error}", error_description="${description}"`;
}
