/**
 * The one catalogue of Kubernetes `Status` errors the aggregated API returns, with the message
 * shapes of apimachinery's errors.go.
 * @module
 */
import { SNAPSHOT_GROUP } from "../api/group.ts";
import { SNAPSHOT_RESOURCE } from "../api/snapshot-names.ts";
import type { Reason, Status, StatusDetails } from "../kube/status.ts";
import { failure as statusFailure } from "../kube/status.ts";

export type { Status, StatusDetails } from "../kube/status.ts";

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

function failure(reason: Reason, message: string, details?: StatusDetails): StatusError {
  return new StatusError(statusFailure(reason, message, details));
}

export function notFound(name: string): StatusError {
  return failure("NotFound", `${QUALIFIED_RESOURCE} "${name}" not found`, { name, ...RESOURCE_DETAILS });
}

export function pathNotFound(): StatusError {
  return failure("NotFound", "the server could not find the requested resource", {});
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
  if (r === undefined) return failure("Forbidden", `forbidden: ${inner}`, {});
  const qualified = r.group === "" ? r.resource : `${r.resource}.${r.group}`;
  const message = r.name ? `${qualified} "${r.name}" is forbidden: ${inner}` : `${qualified} is forbidden: ${inner}`;
  return failure("Forbidden", message, { ...(r.name ? { name: r.name } : {}), group: r.group, kind: r.resource });
}

export function unauthorized(): StatusError {
  return failure("Unauthorized", "Unauthorized");
}

/** `verb` is the API verb: create, update, patch, deletecollection… */
export function methodNotAllowed(verb: string): StatusError {
  return failure("MethodNotAllowed", `${verb} is not supported on resources of kind "${QUALIFIED_RESOURCE}"`, RESOURCE_DETAILS);
}

export function notAcceptable(accepted: readonly string[]): StatusError {
  return failure("NotAcceptable", `only the following media types are accepted: ${accepted.join(", ")}`);
}

export function unsupportedMediaType(contentType: string): StatusError {
  return failure("UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: application/json (got "${contentType}")`);
}

export function expired(message: string): StatusError {
  return failure("Expired", message);
}

export function tooOldResourceVersion(requested: number, oldest: number): StatusError {
  return expired(`too old resource version: ${requested} (${oldest})`);
}

export function badRequest(message: string): StatusError {
  return failure("BadRequest", message);
}

export function conflict(name: string, message: string): StatusError {
  return failure("Conflict", `Operation cannot be fulfilled on ${QUALIFIED_RESOURCE} "${name}": ${message}`, { name, ...RESOURCE_DETAILS });
}

export function internalError(message: string): StatusError {
  return failure("InternalError", `Internal error occurred: ${message}`, {});
}

export function serviceUnavailable(message: string): StatusError {
  return failure("ServiceUnavailable", message);
}

/** The success Status of a synchronous delete (kubectl reads details.uid). */
export function deleted(name: string, uid: string): Status {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details: { name, ...RESOURCE_DETAILS, uid } };
}

export function asStatusError(err: unknown): StatusError {
  if (err instanceof StatusError) return err;
  return internalError(err instanceof Error ? err.message : String(err));
}
