import { test } from "node:test";
import assert from "node:assert/strict";
import { groupSnapshots } from "./grouping.ts";
import { humanDuration, humanSize, toTable } from "./table.ts";
import type { ColumnDefinition } from "./table.ts";
import { hexId, resticSnap } from "./test-fixtures.ts";

test("humanSize", async (t) => {
  const cases: [number, string][] = [
    [0, "0"],
    [512, "512"],
    [1023, "1023"],
    [1024, "1Ki"],
    [1536, "1.5Ki"],
    [12 * 1024 * 1024, "12Mi"],
    [1288490188, "1.2Gi"],
    [1024 * 1024 - 1, "1Mi"],
    [5 * 1024 ** 4, "5Ti"],
  ];
  for (const [n, want] of cases) await t.test(String(n), () => assert.equal(humanSize(n), want));
});

test("humanDuration follows kubectl", async (t) => {
  const s = 1000;
  const m = 60 * s;
  const h = 60 * m;
  const d = 24 * h;
  const cases: [number, string][] = [
    [-5 * s, "<invalid>"],
    [-1 * s, "0s"],
    [45 * s, "45s"],
    [119 * s, "119s"],
    [5 * m, "5m"],
    [5 * m + 10 * s, "5m10s"],
    [15 * m, "15m"],
    [179 * m, "179m"],
    [3 * h, "3h"],
    [3 * h + 20 * m, "3h20m"],
    [30 * h, "30h"],
    [2 * d + 4 * h, "2d4h"],
    [3 * d, "3d"],
    [100 * d, "100d"],
    [3 * 365 * d + 20 * d, "3y20d"],
    [10 * 365 * d, "10y"],
  ];
  for (const [ms, want] of cases) await t.test(want, () => assert.equal(humanDuration(ms), want));
});

test("toTable: columns, cells and row objects", async (t) => {
  const [g] = groupSnapshots({
    policy: { namespace: "shop", name: "web" },
    repositoryId: "r",
    snapshots: [
      resticSnap({ id: hexId("a"), run: "web-1", pvc: "data", bytes: 1288490188, files: 7, time: "2025-01-02T03:04:05Z" }),
      resticSnap({ id: hexId("b"), run: "web-1", pvc: "logs", bytes: 0, files: 3, time: "2025-01-02T03:04:06Z" }),
    ],
    runs: new Map(),
  });
  assert.ok(g);
  const now = Date.parse("2025-01-05T07:04:05Z");
  const base = { version: "v1" as const, now, columns: true, listMeta: { resourceVersion: "7" } };
  const table = toTable([g.object], { ...base, include: "Metadata" }) as { columnDefinitions: readonly ColumnDefinition[]; rows: { cells: unknown[]; object: unknown }[]; metadata: unknown };
  assert.deepEqual(table.columnDefinitions.map((c) => [c.name, c.priority]), [
    ["Name", 0], ["Policy", 0], ["Status", 0], ["Size", 0], ["Files", 0], ["Age", 0], ["Run", 1], ["Volumes", 1],
  ]);
  assert.equal(table.columnDefinitions[0]?.format, "name");
  assert.deepEqual(table.rows[0]?.cells, ["web-1", "web", "Complete", "1.2Gi", 10, "3d4h", "web-1", "data,logs"]);
  assert.deepEqual(table.rows[0]?.object, { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: g.object.metadata });
  assert.deepEqual(table.metadata, { resourceVersion: "7" });
  await t.test("includeObject", () => {
    assert.equal((toTable([g.object], { ...base, include: "None" }) as typeof table).rows[0]?.object, null);
    assert.equal((toTable([g.object], { ...base, include: "Object" }) as typeof table).rows[0]?.object, g.object);
  });
  await t.test("watch frames after the first carry no columns", () => {
    assert.deepEqual((toTable([g.object], { ...base, include: "Metadata", columns: false }) as typeof table).columnDefinitions, []);
  });
});
