/**
 * BackupRun and RestoreRun rules: they must name an existing policy, and their spec is fixed
 * once created.
 * @module
 */
import { BackupRun } from "../backuprun.ts";
import type { BackupRun as BackupRunT } from "../backuprun.ts";
import type { FieldError, ValidationResult } from "../field-errors.ts";
import { immutable, notFound, required } from "../field-errors.ts";
import { RestoreRun } from "../restorerun.ts";
import type { RestoreRun as RestoreRunT } from "../restorerun.ts";
import type { ValidationContext } from "./common.ts";
import type { SnapshotAnswer } from "./restore-snapshot.ts";
import { restoreSnapshotErrors } from "./restore-snapshot.ts";
import { nameErrors, structuralErrors } from "./common.ts";

function policyRefErrors(namespace: string, name: string, ctx: ValidationContext): FieldError[] {
  const errors = nameErrors("spec.policyRef.name", name);
  if (errors.length === 0 && !ctx.policyExists(namespace, name)) {
    errors.push(notFound("spec.policyRef.name", name, `no BackupPolicy with this name in namespace ${namespace}; kubectl get backuppolicies -n ${namespace} lists them`));
  }
  return errors;
}

function specUnchanged(spec: unknown, oldSpec: unknown): FieldError[] {
  if (oldSpec === undefined || JSON.stringify(spec) === JSON.stringify(oldSpec)) return [];
  return [immutable("spec", "field is immutable: create a new run instead")];
}

export function validateBackupRun(obj: unknown, old: unknown, ctx: ValidationContext): ValidationResult {
  const structure = structuralErrors(BackupRun, obj);
  if (structure.length > 0) return { errors: structure, warnings: [] };
  const run = obj as BackupRunT;
  const namespace = run.metadata?.namespace ?? "";
  const oldSpec = (old as BackupRunT | undefined)?.spec;
  if (oldSpec) return { errors: specUnchanged(run.spec, oldSpec), warnings: [] };
  return { errors: policyRefErrors(namespace, run.spec.policyRef.name, ctx), warnings: [] };
}

export interface SnapshotCheck {
  /** The Snapshot a RestoreRun names, from the Snapshot API; absent where no API is wired. */
  readonly snapshot?: (namespace: string, name: string) => SnapshotAnswer;
}

export function validateRestoreRun(obj: unknown, old: unknown, ctx: ValidationContext & SnapshotCheck): ValidationResult {
  const structure = structuralErrors(RestoreRun, obj);
  if (structure.length > 0) return { errors: structure, warnings: [] };
  const restore = obj as RestoreRunT;
  const namespace = restore.metadata?.namespace ?? "";
  const oldSpec = (old as RestoreRunT | undefined)?.spec;
  if (oldSpec) return { errors: specUnchanged(restore.spec, oldSpec), warnings: [] };
  const errors = policyRefErrors(namespace, restore.spec.policyRef.name, ctx);
  if (restore.spec.snapshot.trim() === "") errors.push(required("spec.snapshot", "the name of the Snapshot to restore; kubectl get snapshots lists them"));
  for (const [i, pvc] of (restore.spec.volumes ?? []).entries()) errors.push(...nameErrors(`spec.volumes[${i}]`, pvc));
  if (errors.length === 0 && ctx.snapshot) {
    const target = { namespace, policy: restore.spec.policyRef.name, snapshot: restore.spec.snapshot, volumes: restore.spec.volumes };
    errors.push(...restoreSnapshotErrors(target, ctx.snapshot(namespace, restore.spec.snapshot)));
  }
  return { errors, warnings: [] };
}
