/**
 * The one catalogue of error shapes the product returns: Kubernetes `Status` objects with a
 * stable reason and HTTP code (apimachinery's errors.go).
 * @module
 */

export const REASONS = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  Conflict: 409,
  Expired: 410,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  Invalid: 422,
  InternalError: 500,
  ServiceUnavailable: 503,
} as const;
export type Reason = keyof typeof REASONS;

export interface StatusDetails {
  readonly name?: string;
  readonly group?: string;
  readonly kind?: string;
  readonly uid?: string;
  readonly causes?: readonly { reason?: string; message: string; field?: string }[];
}

export interface Status {
  readonly kind: "Status";
  readonly apiVersion: "v1";
  readonly metadata: Record<string, never>;
  readonly status: "Failure" | "Success";
  readonly message: string;
  readonly reason: Reason;
  readonly code: number;
  readonly details?: StatusDetails;
}

export function failure(reason: Reason, message: string, details?: StatusDetails): Status {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code: REASONS[reason], ...(details ? { details } : {}) };
}
