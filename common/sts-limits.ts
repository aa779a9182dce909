// STS limits the broker enforces itself: moto, used in tests, does not.

export const MIN_SESSION_SECONDS = 900;
export const SESSION_NAME_PATTERN = /^[\w+=,.@-]{2,64}$/;
const SOURCE_IDENTITY_PATTERN = /^[\w+=,.@-]{2,64}$/;
const TAG_VALUE_PATTERN = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;

export class StsLimitError extends Error {
  override name = 'StsLimitError';
}

/** Maps an identity (OIDC sub or email) onto the SourceIdentity charset, keeping it recognisable. */
export function toSourceIdentity(identity: string): string {
  const cleaned = identity.replace(/[^\w+=,.@-]/g, '_').slice(0, 64);
  return cleaned.length >= 2 ? cleaned : cleaned.padEnd(2, '_');
}

/** Maps a value onto the session-tag charset (at most 256 characters). */
export function toTagValue(value: string): string {
  return value.replace(/[^\p{L}\p{Z}\p{N}_.:/=+\-@]/gu, '_').slice(0, 256);
}

export function assertSessionName(name: string): void {
  if (!SESSION_NAME_PATTERN.test(name))
    throw new StsLimitError(`invalid RoleSessionName ${JSON.stringify(name)}`);
}

export function assertSourceIdentity(value: string): void {
  if (!SOURCE_IDENTITY_PATTERN.test(value))
    throw new StsLimitError(`invalid SourceIdentity ${JSON.stringify(value)}`);
}

export function assertTagValue(key: string, value: string): void {
  if (!TAG_VALUE_PATTERN.test(value)) throw new StsLimitError(`invalid value for session tag ${key}`);
}
