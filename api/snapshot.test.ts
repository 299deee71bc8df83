import { test } from "node:test";
import assert from "node:assert/strict";
import { z } from "zod";
import { Snapshot, SnapshotStatus } from "./snapshot.ts";

const valid = {
  apiVersion: "snapshots.backup.podwarden.io/v1alpha1",
  kind: "Snapshot",
  metadata: { name: "web-20250102-0200", namespace: "shop", uid: "3c1f…", resourceVersion: "17", creationTimestamp: "2025-01-02T02:00:03Z" },
  spec: { policy: "web", run: "web-20250102-0200" },
  status: {
    phase: "Complete",
    time: "2025-01-02T02:00:03.123456789Z",
    volumes: [{ pvc: "data", resticId: "a".repeat(64), time: "2025-01-02T02:00:03.123456789Z", sizeBytes: 1024, files: 3, addedBytes: 10 }],
    totals: { volumes: 1, sizeBytes: 1024, files: 3, addedBytes: 10 },
    hostname: "job",
    paths: ["/data"],
    tags: ["policy=web"],
  },
};

test("Snapshot schema", async (t) => {
  const cases: { name: string; obj: unknown; ok: boolean }[] = [
    { name: "valid", obj: valid, ok: true },
    { name: "no run (snapshot made outside a run)", obj: { ...valid, spec: { policy: "web" } }, ok: true },
    { name: "unknown phase", obj: { ...valid, status: { ...valid.status, phase: "Done" } }, ok: false },
    { name: "wrong kind", obj: { ...valid, kind: "Snap" }, ok: false },
    { name: "negative size", obj: { ...valid, status: { ...valid.status, totals: { ...valid.status.totals, sizeBytes: -1 } } }, ok: false },
  ];
  for (const c of cases) await t.test(c.name, () => assert.equal(Snapshot.safeParse(c.obj).success, c.ok));
});

test("every field of spec and status has a description (kubectl explain)", () => {
  const missing: string[] = [];
  const walk = (node: unknown, path: string): void => {
    const n = node as { properties?: Record<string, unknown>; items?: unknown; description?: string };
    for (const [k, v] of Object.entries(n.properties ?? {})) {
      if (typeof (v as { description?: unknown }).description !== "string") missing.push(`${path}.${k}`);
      walk(v, `${path}.${k}`);
    }
    if (n.items) walk(n.items, `${path}[]`);
  };
  walk(z.toJSONSchema(Snapshot.shape.spec), "spec");
  walk(z.toJSONSchema(SnapshotStatus), "status");
  assert.deepEqual(missing, []);
});
