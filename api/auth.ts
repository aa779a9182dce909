// API authentication: bearer JWTs from the trusted issuers, people and workloads (api/auth/*).
export { type Authenticator, type AuthenticatorOptions, createAuthenticator } from './auth/authenticator.js';
export { AuthError, type AuthFailure, WorkloadNotMappedError, wwwAuthenticate } from './auth/errors.js';
export { registerAuth } from './auth/fastify.js';
export {
  checkIssuers,
  defaultPersonIssuer,
  type IssuerConfig,
  IssuersFileError,
  loadIssuersFile,
  parseIssuers,
} from './auth/issuers.js';
