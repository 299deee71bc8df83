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
  readonly message?: string;
  readonly reason?: Reason;
  /** Absent on a Success status (HTTP 200). */
  readonly code?: number;
  readonly details?: StatusDetails;
}

/** A Failure Status; its HTTP code is the reason's. */
export function failure(reason: Reason, message: string, details?: StatusDetails): Status {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code: REASONS[reason], ...(details ? { details } : {}) };
}

/** The reason of an HTTP error code (BadRequest for a 4xx without one of its own). */
export function reasonForCode(code: number): Reason {
  const match = (Object.keys(REASONS) as Reason[]).find((r) => REASONS[r] === code);
  return match ?? (code >= 500 ? "InternalError" : "BadRequest");
}
