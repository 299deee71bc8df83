/**
 * Compact OpenAPI schemas of the apimachinery types the Snapshot API refers to (ObjectMeta,
 * ListMeta, Status, DeleteOptions), so that every `$ref` resolves inside our own document.
 * Each is a function of the `$ref` prefix (v2 `#/definitions/`, v3 `#/components/schemas/`).
 * @module
 */
import { API_VERSION_DOC, KIND_DOC } from "../api/meta.ts";

export const META = "io.k8s.apimachinery.pkg.apis.meta.v1";
export const OBJECT_META = `${META}.ObjectMeta`;
export const LIST_META = `${META}.ListMeta`;
export const STATUS = `${META}.Status`;
export const STATUS_DETAILS = `${META}.StatusDetails`;
export const STATUS_CAUSE = `${META}.StatusCause`;
export const DELETE_OPTIONS = `${META}.DeleteOptions`;
export const PRECONDITIONS = `${META}.Preconditions`;
export const WATCH_EVENT = `${META}.WatchEvent`;

type Schema = Record<string, unknown>;

const str = (description: string): Schema => ({ type: "string", description });
const time = (description: string): Schema => ({ type: "string", format: "date-time", description });
const int = (description: string, format = "int64"): Schema => ({ type: "integer", format, description });
const strMap = (description: string): Schema => ({ type: "object", additionalProperties: { type: "string" }, description });
const strList = (description: string): Schema => ({ type: "array", items: { type: "string" }, description });

const API_VERSION = str(API_VERSION_DOC);
const KIND = str(KIND_DOC);

function objectMeta(): Schema {
  return {
    type: "object",
    description: "ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.",
    properties: {
      name: str("Name must be unique within a namespace. For Snapshots: the BackupRun's name, or <policy>-<first 8 hex of the restic id>."),
      generateName: str("Not used by Snapshots."),
      namespace: str("Namespace of the BackupPolicy whose repository holds the snapshot."),
      uid: str("UID is stable for the life of the snapshot: derived from the restic repository and snapshot identity."),
      resourceVersion: str("An opaque value that represents the internal version of this object; changes whenever the snapshot changes."),
      generation: int("Not used by Snapshots."),
      creationTimestamp: time("When the snapshot was taken (its first volume's restic time)."),
      deletionTimestamp: time("Not used by Snapshots: deletion is synchronous."),
      labels: strMap("Map of string keys and values: backup.podwarden.io/policy, /run and (single-volume snapshots) /pvc."),
      annotations: strMap("Unstructured key value map; not used by Snapshots."),
    },
  };
}

function listMeta(): Schema {
  return {
    type: "object",
    description: "ListMeta describes metadata that synthetic resources must have, including lists.",
    properties: {
      resourceVersion: str("The resourceVersion of the list; watch from it to get later changes."),
      continue: str("Set when more items are available; pass it as the continue parameter of the next list call."),
      remainingItemCount: int("Number of items after this page."),
    },
  };
}

function status(ref: (name: string) => Schema): Schema {
  return {
    type: "object",
    description: "Status is a return value for calls that don't return other objects.",
    properties: {
      apiVersion: API_VERSION,
      kind: KIND,
      metadata: ref(LIST_META),
      status: str("Status of the operation: Success or Failure."),
      message: str("A human-readable description of the status of this operation."),
      reason: str("A machine-readable description of why this operation is in the Failure status."),
      details: ref(STATUS_DETAILS),
      code: int("Suggested HTTP return code for this status.", "int32"),
    },
  };
}

function statusDetails(ref: (name: string) => Schema): Schema {
  return {
    type: "object",
    description: "StatusDetails is a set of additional properties that MAY be set by the server to provide additional information about a response.",
    properties: {
      name: str("The name attribute of the resource associated with the status."),
      group: str("The group attribute of the resource associated with the status."),
      kind: str("The kind attribute of the resource associated with the status."),
      uid: str("UID of the resource."),
      causes: { type: "array", items: ref(STATUS_CAUSE), description: "The Causes array includes more details associated with the failure." },
      retryAfterSeconds: int("If specified, the time in seconds before the operation should be retried.", "int32"),
    },
  };
}

function statusCause(): Schema {
  return {
    type: "object",
    description: "StatusCause provides more information about an api.Status failure.",
    properties: {
      reason: str("A machine-readable description of the cause of the error."),
      message: str("A human-readable description of the cause of the error."),
      field: str("The field of the resource that has caused this error."),
    },
  };
}

function deleteOptions(ref: (name: string) => Schema): Schema {
  return {
    type: "object",
    description: "DeleteOptions may be provided when deleting an API object.",
    properties: {
      apiVersion: API_VERSION,
      kind: KIND,
      dryRun: strList("When present, indicates that modifications should not be persisted. The only valid value is All."),
      gracePeriodSeconds: int("Ignored: Snapshots are deleted at once."),
      preconditions: ref(PRECONDITIONS),
      propagationPolicy: str("Ignored: Snapshots own nothing."),
      orphanDependents: { type: "boolean", description: "Deprecated; ignored." },
    },
  };
}

function preconditions(): Schema {
  return {
    type: "object",
    description: "Preconditions must be fulfilled before an operation is carried out.",
    properties: { resourceVersion: str("Specifies the target ResourceVersion."), uid: str("Specifies the target UID.") },
  };
}

function watchEvent(): Schema {
  return {
    type: "object",
    description: "Event represents a single event to a watched resource.",
    required: ["type", "object"],
    properties: {
      type: str("ADDED, MODIFIED, DELETED, BOOKMARK or ERROR."),
      object: { type: "object", description: "The object (or a Status for ERROR)." },
    },
  };
}

/** The meta schemas by name, their `$ref`s built by `ref`. */
export function metaSchemas(ref: (name: string) => Schema): Record<string, Schema> {
  return {
    [OBJECT_META]: objectMeta(),
    [LIST_META]: listMeta(),
    [STATUS]: status(ref),
    [STATUS_DETAILS]: statusDetails(ref),
    [STATUS_CAUSE]: statusCause(),
    [DELETE_OPTIONS]: deleteOptions(ref),
    [PRECONDITIONS]: preconditions(),
    [WATCH_EVENT]: watchEvent(),
  };
}
