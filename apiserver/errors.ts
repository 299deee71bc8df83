/**
 * The one catalogue of Kubernetes `Status` errors the aggregated API returns, with the message
 * shapes of apimachinery's errors.go.
 * @module
 */
import { SNAPSHOT_GROUP } from "../api/group.ts";
import { SNAPSHOT_RESOURCE } from "../api/snapshot.ts";

export const STATUS_REASONS = [
  "NotFound",
  "Forbidden",
  "Unauthorized",
  "MethodNotAllowed",
  "NotAcceptable",
  "UnsupportedMediaType",
  "Expired",
  "BadRequest",
  "Conflict",
  "InternalError",
  "ServiceUnavailable",
] as const;
export type StatusReason = (typeof STATUS_REASONS)[number];

export interface StatusDetails {
  readonly name?: string;
  readonly group?: string;
  readonly kind?: string;
  readonly uid?: string;
}

export interface Status {
  readonly kind: "Status";
  readonly apiVersion: "v1";
  readonly metadata: Record<string, never>;
  readonly status: "Failure" | "Success";
  readonly message?: string;
  readonly reason?: StatusReason;
  readonly details?: StatusDetails;
  /** Absent on a Success status (HTTP 200). */
  readonly code?: number;
}

/** Thrown by handlers; the app's error handler writes `status` with HTTP `status.code`. */
export class StatusError extends Error {
  readonly status: Status;
  constructor(status: Status) {
    super(status.message);
    this.status = status;
  }
}

/** `snapshots.snapshots.backup.podwarden.io`: the qualified resource in messages. */
export const QUALIFIED_RESOURCE = `${SNAPSHOT_RESOURCE}.${SNAPSHOT_GROUP}`;
const RESOURCE_DETAILS = { group: SNAPSHOT_GROUP, kind: SNAPSHOT_RESOURCE } as const;

function failure(code: number, reason: StatusReason, message: string, details?: StatusDetails): StatusError {
  return new StatusError({
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    ...(details === undefined ? {} : { details }),
    code,
  });
}

export function notFound(name: string): StatusError {
  return failure(404, "NotFound", `${QUALIFIED_RESOURCE} "${name}" not found`, { name, ...RESOURCE_DETAILS });
}

export function pathNotFound(): StatusError {
  return failure(404, "NotFound", "the server could not find the requested resource", {});
}

export interface ForbiddenInput {
  readonly user: string;
  readonly verb: string;
  /** Non-resource requests: the path. */
  readonly path?: string;
  readonly resource?: { readonly group: string; readonly resource: string; readonly namespace?: string; readonly name?: string };
  readonly reason?: string;
}

function forbiddenMessage(f: ForbiddenInput): string {
  const r = f.resource;
  if (r === undefined) return `User "${f.user}" cannot ${f.verb} path "${f.path ?? ""}"`;
  const where = r.namespace ? `in the namespace "${r.namespace}"` : "at the cluster scope";
  return `User "${f.user}" cannot ${f.verb} resource "${r.resource}" in API group "${r.group}" ${where}`;
}

export function forbidden(f: ForbiddenInput): StatusError {
  const inner = f.reason ? `${forbiddenMessage(f)}: ${f.reason}` : forbiddenMessage(f);
  const r = f.resource;
  if (r === undefined) return failure(403, "Forbidden", `forbidden: ${inner}`, {});
  const qualified = r.group === "" ? r.resource : `${r.resource}.${r.group}`;
  const message = r.name ? `${qualified} "${r.name}" is forbidden: ${inner}` : `${qualified} is forbidden: ${inner}`;
  return failure(403, "Forbidden", message, { ...(r.name ? { name: r.name } : {}), group: r.group, kind: r.resource });
}

export function unauthorized(): StatusError {
  return failure(401, "Unauthorized", "Unauthorized");
}

/** `verb` is the API verb: create, update, patch, deletecollection… */
export function methodNotAllowed(verb: string): StatusError {
  return failure(405, "MethodNotAllowed", `${verb} is not supported on resources of kind "${QUALIFIED_RESOURCE}"`, RESOURCE_DETAILS);
}

export function notAcceptable(accepted: readonly string[]): StatusError {
  return failure(406, "NotAcceptable", `only the following media types are accepted: ${accepted.join(", ")}`);
}

export function unsupportedMediaType(contentType: string): StatusError {
  return failure(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: application/json (got "${contentType}")`);
}

export function expired(message: string): StatusError {
  return failure(410, "Expired", message);
}

export function tooOldResourceVersion(requested: number, oldest: number): StatusError {
  return expired(`too old resource version: ${requested} (${oldest})`);
}

export function badRequest(message: string): StatusError {
  return failure(400, "BadRequest", message);
}

export function conflict(name: string, message: string): StatusError {
  return failure(409, "Conflict", `Operation cannot be fulfilled on ${QUALIFIED_RESOURCE} "${name}": ${message}`, { name, ...RESOURCE_DETAILS });
}

export function internalError(message: string): StatusError {
  return failure(500, "InternalError", `Internal error occurred: ${message}`, {});
}

export function serviceUnavailable(message: string): StatusError {
  return failure(503, "ServiceUnavailable", message);
}

/** The success Status of a synchronous delete (kubectl reads details.uid). */
export function deleted(name: string, uid: string): Status {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details: { name, ...RESOURCE_DETAILS, uid } };
}

export function asStatusError(err: unknown): StatusError {
  if (err instanceof StatusError) return err;
  return internalError(err instanceof Error ? err.message : String(err));
}
