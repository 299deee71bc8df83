import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatFieldError } from "../field-errors.ts";
import { validateBackupRun, validateRestoreRun } from "./runs.ts";
import { fixedContext } from "./testing.ts";

const ctx = fixedContext({ policies: ["team-a/app"] });
const run = (policy: string): unknown => ({ metadata: { name: "r", namespace: "team-a" }, spec: { policyRef: { name: policy } } });
const restore = (spec: Record<string, unknown>): unknown => ({ metadata: { name: "r", namespace: "team-a" }, spec: { policyRef: { name: "app" }, snapshot: "app-1", ...spec } });

describe("validateBackupRun", () => {
  const cases: { name: string; obj: unknown; old?: unknown; errors?: string[] }[] = [
    { name: "names an existing policy", obj: run("app") },
    {
      name: "policy must exist",
      obj: run("gone"),
      errors: ['spec.policyRef.name: Not found: "gone": no BackupPolicy with this name in namespace team-a; kubectl get backuppolicies -n team-a lists them'],
    },
    { name: "policyRef is required", obj: { metadata: { namespace: "team-a" }, spec: {} }, errors: ["spec.policyRef: Required value: must be set: expected an object"] },
    { name: "UPDATE: spec is immutable", obj: run("app"), old: run("other"), errors: ["spec: Invalid value: field is immutable: create a new run instead"] },
    { name: "UPDATE: same spec (status or labels change) is fine, even if the policy is gone", obj: run("gone"), old: run("gone") },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(validateBackupRun(c.obj, c.old, ctx).errors.map(formatFieldError), c.errors ?? []));
});

describe("validateRestoreRun", () => {
  const cases: { name: string; obj: unknown; old?: unknown; errors?: string[] }[] = [
    { name: "valid", obj: restore({}) },
    { name: "snapshot is required", obj: restore({ snapshot: undefined }), errors: ["spec.snapshot: Required value: must be set: expected a string"] },
    { name: "snapshot must not be blank", obj: restore({ snapshot: " " }), errors: ["spec.snapshot: Required value: the name of the Snapshot to restore; kubectl get snapshots lists them"] },
    {
      name: "policy must exist",
      obj: restore({ policyRef: { name: "gone" } }),
      errors: ['spec.policyRef.name: Not found: "gone": no BackupPolicy with this name in namespace team-a; kubectl get backuppolicies -n team-a lists them'],
    },
    {
      name: "volumes must be PVC names",
      obj: restore({ volumes: ["BAD"] }),
      errors: [`spec.volumes[0]: Invalid value: "BAD": must be a lowercase RFC 1123 name: letters, digits, '-' and '.', starting and ending with a letter or digit`],
    },
    { name: "UPDATE: spec is immutable", obj: restore({ snapshot: "b" }), old: restore({}), errors: ["spec: Invalid value: field is immutable: create a new run instead"] },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(validateRestoreRun(c.obj, c.old, ctx).errors.map(formatFieldError), c.errors ?? []));

  it("checks the snapshot once the rest is valid", () => {
    const snapshot = () => ({ found: false }) as const;
    assert.deepEqual(validateRestoreRun(restore({}), undefined, { ...ctx, snapshot }).errors.map(formatFieldError), [
      'spec.snapshot: Not found: "app-1": no Snapshot with this name in namespace team-a; kubectl get snapshots -n team-a -l backup.podwarden.io/policy=app lists them',
    ]);
  });
});
