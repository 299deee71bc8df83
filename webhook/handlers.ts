/**
 * What each of our kinds gets from the mutating and the validating webhook.
 * @module
 */
import type { DefaultingContext, FieldError, Kind, SnapshotCheck, ValidationContext, ValidationResult } from "../api/index.ts";
import {
  GROUP,
  KINDS,
  defaultBackupPolicy,
  defaultBackupRun,
  formatFieldErrors,
  validateBackupPolicy,
  validateBackupRun,
  validateRestoreRun,
  validateStorageConnection,
} from "../api/index.ts";
import type { BackupPolicy, BackupRun } from "../api/index.ts";
import type { AdmissionRequest, AdmissionResponse } from "./review.ts";
import { allow, allowWithPatch, deny } from "./review.ts";

export interface HandlerDeps {
  readonly defaulting: DefaultingContext;
  readonly lookups: ValidationContext & SnapshotCheck;
}

type Validator = (obj: unknown, old: unknown, deps: HandlerDeps) => ValidationResult;
type Defaulter = (obj: Record<string, unknown>, old: Record<string, unknown> | null, deps: HandlerDeps) => object;

const VALIDATORS: Record<Kind, Validator> = {
  StorageConnection: (obj) => validateStorageConnection(obj),
  BackupPolicy: (obj, old, deps) => validateBackupPolicy(obj, old, deps.lookups),
  BackupRun: (obj, old, deps) => validateBackupRun(obj, old, deps.lookups),
  RestoreRun: (obj, old, deps) => validateRestoreRun(obj, old, deps.lookups),
};

const DEFAULTERS: Partial<Record<Kind, Defaulter>> = {
  BackupPolicy: (obj, old, deps) => defaultBackupPolicy(obj as BackupPolicy, deps.defaulting, (old ?? undefined) as BackupPolicy | undefined),
  BackupRun: (obj) => defaultBackupRun(obj as BackupRun),
};

/** Our kind, or a denial that says what this webhook serves. */
function ourKind(req: AdmissionRequest): Kind | AdmissionResponse {
  const kind = req.kind.kind as Kind;
  if (req.kind.group === GROUP && KINDS.includes(kind)) return kind;
  return deny(req.uid, "BadRequest", `this webhook admits only ${GROUP} kinds (${KINDS.join(", ")}); got ${req.kind.group || "core"}/${req.kind.version} ${req.kind.kind}`);
}

/** The object as the handlers see it: with the request's namespace filled in. */
function withNamespace(req: AdmissionRequest, obj: Record<string, unknown>): Record<string, unknown> {
  const meta = (obj["metadata"] ?? {}) as Record<string, unknown>;
  if (req.namespace === undefined || meta["namespace"] !== undefined) return obj;
  return { ...obj, metadata: { ...meta, namespace: req.namespace } };
}

export function mutate(req: AdmissionRequest, deps: HandlerDeps): AdmissionResponse {
  const kind = ourKind(req);
  if (typeof kind !== "string") return kind;
  const defaulter = DEFAULTERS[kind];
  if (!defaulter || req.object === null || (req.operation !== "CREATE" && req.operation !== "UPDATE")) return allow(req.uid);
  return allowWithPatch(req.uid, req.object, defaulter(req.object, req.operation === "UPDATE" ? req.oldObject : null, deps));
}

function denyInvalid(req: AdmissionRequest, kind: Kind, errors: readonly FieldError[], warnings: readonly string[]): AdmissionResponse {
  const name = req.name ?? "";
  return deny(req.uid, "Invalid", `${kind} "${name}" is invalid: ${formatFieldErrors(errors)}`, warnings);
}

/** An object on its way out is only having finalizers removed: never block that. */
const isDeleting = (obj: Record<string, unknown>): boolean =>
  typeof (obj["metadata"] as Record<string, unknown> | undefined)?.["deletionTimestamp"] === "string";

export function validate(req: AdmissionRequest, deps: HandlerDeps): AdmissionResponse {
  const kind = ourKind(req);
  if (typeof kind !== "string") return kind;
  if (req.object === null || (req.operation !== "CREATE" && req.operation !== "UPDATE")) return allow(req.uid);
  if (isDeleting(req.object)) return allow(req.uid);
  const old = req.operation === "UPDATE" && req.oldObject ? withNamespace(req, req.oldObject) : undefined;
  const result = VALIDATORS[kind](withNamespace(req, req.object), old, deps);
  return result.errors.length > 0 ? denyInvalid(req, kind, result.errors, result.warnings) : allow(req.uid, result.warnings);
}
