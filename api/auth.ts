// API authentication: bearer JWTs from the configured OIDC issuer (api/auth/*).
export { type Authenticator, type AuthenticatorOptions, createAuthenticator } from './auth/authenticator.js';
export { AuthError, type AuthFailure, wwwAuthenticate } from './auth/errors.js';
export { registerAuth } from './auth/fastify.js';
