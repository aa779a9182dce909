import type { GrantRejection } from '../common/grant-messages.js';

/** Stable error codes of the API and the HTTP status each maps to. */
export const errorStatus = {
  bad_request: 400,
  validation_failed: 400,
  invalid_argument: 400,
  unknown_role: 400,
  unauthenticated: 401,
  slack_signature_invalid: 401,
  slack_request_stale: 401,
  slack_request_replayed: 401,
  forbidden: 403,
  policy_denied: 403,
  self_approval: 403,
  not_eligible: 403,
  not_requester: 403,
  not_found: 404,
  already_approved: 409,
  already_decided: 409,
  grant_not_pending: 409,
  grant_not_active: 409,
  extension_pending: 409,
  extension_exceeds_cap: 409,
  idempotency_conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  federation_failed: 502,
  not_ready: 503,
  internal: 500,
} as const satisfies Record<string, number> & Record<GrantRejection, number>;

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

  /** A decision the grant workflow refused; an unknown grant is a 404 like any other. */
  static fromRejection(code: GrantRejection | 'grant_not_found', message: string): ApiError {
    return code === 'grant_not_found'
      ? new ApiError('not_found', 'no such grant')
      : new ApiError(code, message);
  }
}

export function errorBody(code: ErrorCode, message: string, requestId: string) {
  return { error: { code, message, requestId } };
}
