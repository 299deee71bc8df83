import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatFieldError } from "../field-errors.ts";
import type { RestoreTarget, SnapshotAnswer } from "./restore-snapshot.ts";
import { restoreSnapshotErrors } from "./restore-snapshot.ts";

const target: RestoreTarget = { namespace: "shop", policy: "web", snapshot: "web-run-1" };
const complete: SnapshotAnswer = { found: true, snapshot: { policy: "web", phase: "Complete", pvcs: ["data", "logs"] } };

const cases: { name: string; target?: Partial<RestoreTarget>; answer: SnapshotAnswer; errors?: string[] }[] = [
  { name: "a Complete snapshot of the policy", answer: complete },
  { name: "a subset of its volumes", target: { volumes: ["logs"] }, answer: complete },
  {
    name: "unknown snapshot",
    answer: { found: false },
    errors: ['spec.snapshot: Not found: "web-run-1": no Snapshot with this name in namespace shop; kubectl get snapshots -n shop -l backup.podwarden.io/policy=web lists them'],
  },
  {
    name: "another policy's snapshot",
    answer: { found: true, snapshot: { ...complete.snapshot, policy: "db" } },
    errors: ['spec.snapshot: Invalid value: "web-run-1": belongs to BackupPolicy db, not web; set spec.policyRef.name to db'],
  },
  {
    name: "a Partial snapshot",
    answer: { found: true, snapshot: { policy: "web", phase: "Partial", pvcs: ["data"], missingVolumes: ["logs"] } },
    errors: ['spec.snapshot: Invalid value: "web-run-1": is Partial (missing: logs): only a Complete snapshot can be restored'],
  },
  {
    name: "an InProgress snapshot",
    answer: { found: true, snapshot: { policy: "web", phase: "InProgress", pvcs: [] } },
    errors: ['spec.snapshot: Invalid value: "web-run-1": is InProgress: only a Complete snapshot can be restored'],
  },
  {
    name: "a volume the snapshot does not hold",
    target: { volumes: ["data", "cache"] },
    answer: complete,
    errors: ['spec.volumes[1]: Invalid value: "cache": is not in snapshot web-run-1, which holds: data, logs'],
  },
  {
    name: "the snapshot API is unavailable: fail closed",
    answer: { unavailable: "the snapshot API answered 503" },
    errors: ['spec.snapshot: Invalid value: "web-run-1": cannot be checked now (the snapshot API answered 503); the restore was not started, retry when kubectl get snapshots -n shop works'],
  },
];

describe("restoreSnapshotErrors", () => {
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(restoreSnapshotErrors({ ...target, ...c.target }, c.answer).map(formatFieldError), c.errors ?? []));
  }
});
