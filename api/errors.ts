import type { GrantCommandCode } from '../platform/grant-client.js';

/** Stable error codes of the API and the HTTP status each maps to. */
export const errorStatus = {
  bad_request: 400,
  validation_failed: 400,
  invalid_argument: 400,
  unknown_role: 400,
  unauthenticated: 401,
  unknown_issuer: 401,
  slack_signature_invalid: 401,
  slack_request_stale: 401,
  slack_request_replayed: 401,
  forbidden: 403,
  policy_denied: 403,
  self_approval: 403,
  not_eligible: 403,
  not_requester: 403,
  workload_not_mapped: 403,
  not_found: 404,
  already_approved: 409,
  already_decided: 409,
  grant_not_pending: 409,
  grant_not_active: 409,
  extension_pending: 409,
  extension_exceeds_cap: 409,
  idempotency_conflict: 409,
  no_review: 409,
  review_closed: 409,
  method_not_allowed: 405,
  payload_too_large: 413,
  uri_too_long: 414,
  unsupported_media_type: 415,
  rate_limited: 429,
  federation_failed: 502,
  aws_refused: 502,
  // Retryable: the answer says to come back (Retry-After).
  not_ready: 503,
  worker_unavailable: 503,
  grant_busy: 503,
  aws_unavailable: 503,
  assertion_expired: 503,
  // A front door and the workers disagree on keys: an operator's problem, never the caller's input.
  assertion_missing: 500,
  payload_not_encrypted: 500,
  assertion_invalid: 500,
  assertion_unknown_key: 500,
  assertion_mismatch: 500,
  internal: 500,
} as const satisfies Record<string, number> & Record<Exclude<GrantCommandCode, 'grant_not_found'>, number>;

/** Codes a client should retry (same Idempotency-Key), after `Retry-After` seconds. */
export const retryAfterSeconds: Partial<Record<ErrorCode, number>> = {
  not_ready: 5,
  worker_unavailable: 5,
  grant_busy: 2,
  aws_unavailable: 5,
  assertion_expired: 1,
  rate_limited: 60,
};

export type ErrorCode = keyof typeof errorStatus;

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }

  get status(): number {
    return errorStatus[this.code];
  }
}

export function errorBody(code: ErrorCode, message: string, requestId: string) {
  return { error: { code, message, requestId } };
}
