// The web console's client at the dev issuer. The console is a backend for frontend, so it is a
// confidential client: code flow with PKCE, tokens redeemed by the API's server side. Dev only: its
// secret sits in source control, like the dev passwords.
export const CONSOLE_CLIENT_ID = 'jit-console';
export const CONSOLE_CLIENT_SECRET = 'jit-console-dev-secret-not-a-secret';

/** Where the console (api/console) takes the sign-in answer and the issuer's sign-out answer. */
export const CONSOLE_CALLBACK_PATH = '/auth/callback';
export const CONSOLE_SIGNED_OUT_PATH = '/signed-out';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * A console URI on a loopback origin, any port: the local stack's API port is configurable and
 * tests run the API on a free port. Nothing else is accepted (no other host, path or query).
 */
export function isLoopbackConsoleUri(value: string, path: string): boolean {
  const url = URL.parse(value);
  return (
    url !== null &&
    url.protocol === 'http:' &&
    LOOPBACK_HOSTS.has(url.hostname) &&
    url.pathname === path &&
    url.search === '' &&
    url.hash === '' &&
    url.username === '' &&
    url.password === ''
  );
}
