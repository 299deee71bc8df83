/**
 * Whether a RestoreRun's snapshot can be restored: it exists, belongs to the policy, is
 * Complete, and holds every volume asked for. Pure: the snapshot comes from the Snapshot API.
 * @module
 */
import type { FieldError } from "../field-errors.ts";
import { invalid, notFound } from "../field-errors.ts";
import type { SnapshotPhase } from "../snapshot.ts";

/** What the check needs to know of a Snapshot. */
export interface SnapshotFacts {
  readonly policy: string;
  readonly phase: SnapshotPhase;
  readonly pvcs: readonly string[];
  readonly missingVolumes?: readonly string[];
}

export type SnapshotAnswer = { found: true; snapshot: SnapshotFacts } | { found: false } | { unavailable: string };

export interface RestoreTarget {
  readonly namespace: string;
  readonly policy: string;
  readonly snapshot: string;
  readonly volumes?: readonly string[];
}

export function restoreSnapshotErrors(t: RestoreTarget, answer: SnapshotAnswer): FieldError[] {
  if ("unavailable" in answer) {
    return [invalid("spec.snapshot", t.snapshot, `cannot be checked now (${answer.unavailable}); the restore was not started, retry when kubectl get snapshots -n ${t.namespace} works`)];
  }
  if (!answer.found) {
    return [notFound("spec.snapshot", t.snapshot, `no Snapshot with this name in namespace ${t.namespace}; kubectl get snapshots -n ${t.namespace} -l backup.podwarden.io/policy=${t.policy} lists them`)];
  }
  const s = answer.snapshot;
  if (s.policy !== t.policy) {
    return [invalid("spec.snapshot", t.snapshot, `belongs to BackupPolicy ${s.policy}, not ${t.policy}; set spec.policyRef.name to ${s.policy}`)];
  }
  if (s.phase !== "Complete") {
    const missing = s.missingVolumes?.length ? ` (missing: ${s.missingVolumes.join(", ")})` : "";
    return [invalid("spec.snapshot", t.snapshot, `is ${s.phase}${missing}: only a Complete snapshot can be restored`)];
  }
  const errors: FieldError[] = [];
  for (const [i, pvc] of (t.volumes ?? []).entries()) {
    if (!s.pvcs.includes(pvc)) errors.push(invalid(`spec.volumes[${i}]`, pvc, `is not in snapshot ${t.snapshot}, which holds: ${s.pvcs.join(", ") || "no PVC"}`));
  }
  return errors;
}
