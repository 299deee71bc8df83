/**
 * Field-path errors in the shape Kubernetes prints them: `spec.schedule: Invalid value: "x": …`.
 * Validation returns lists of these and never throws.
 * @module
 */

export const ERROR_TYPES = ["Required", "Invalid", "Forbidden", "NotSupported", "NotFound", "Immutable"] as const;
export type ErrorType = (typeof ERROR_TYPES)[number];

export interface FieldError {
  readonly field: string;
  readonly type: ErrorType;
  readonly detail: string;
  readonly value?: unknown;
}

export interface ValidationResult {
  readonly errors: readonly FieldError[];
  readonly warnings: readonly string[];
}

export const required = (field: string, detail: string): FieldError => ({ field, type: "Required", detail });
export const invalid = (field: string, value: unknown, detail: string): FieldError => ({ field, type: "Invalid", value, detail });
export const forbidden = (field: string, detail: string): FieldError => ({ field, type: "Forbidden", detail });
export const notFound = (field: string, value: unknown, detail: string): FieldError => ({ field, type: "NotFound", value, detail });
export const immutable = (field: string, detail = "field is immutable"): FieldError => ({ field, type: "Immutable", detail });
export const notSupported = (field: string, value: unknown, supported: readonly string[]): FieldError => ({
  field,
  type: "NotSupported",
  value,
  detail: `supported values: ${supported.map((s) => JSON.stringify(s)).join(", ")}`,
});

const LABEL: Record<ErrorType, string> = {
  Required: "Required value",
  Invalid: "Invalid value",
  Forbidden: "Forbidden",
  NotSupported: "Unsupported value",
  NotFound: "Not found",
  Immutable: "Invalid value",
};

function shown(value: unknown): string {
  const text = typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** One error as one line, as kubectl users know it. */
export function formatFieldError(e: FieldError): string {
  const value = e.value === undefined ? "" : `${shown(e.value)}: `;
  return `${e.field}: ${LABEL[e.type]}: ${value}${e.detail}`;
}

/** All errors as one message (the AdmissionReview carries a single string). */
export function formatFieldErrors(errors: readonly FieldError[]): string {
  if (errors.length === 1) return formatFieldError(errors[0]!);
  return `[${errors.map(formatFieldError).join(", ")}]`;
}
